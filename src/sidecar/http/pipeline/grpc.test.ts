// gRPC helpers: request detection, HTTP → gRPC status for local replies, grpc-message encoding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeGrpcMessage, httpToGrpcStatus, isGrpcContentType } from './grpc.js';

test('gRPC content types, with codec suffix or parameters, and look-alikes that are not', () => {
  for (const ct of [
    'application/grpc',
    'application/grpc+proto',
    'application/grpc;charset=utf-8',
    'Application/GRPC',
  ]) {
    assert.equal(isGrpcContentType(ct), true, ct);
  }
  for (const ct of [undefined, 'application/grpc-web', 'application/grpcx', 'application/json']) {
    assert.equal(isGrpcContentType(ct), false, String(ct));
  }
});

test("Envoy's HTTP → gRPC status mapping for local replies", () => {
  assert.deepEqual(
    [400, 401, 403, 404, 429, 502, 503, 504, 500].map(httpToGrpcStatus),
    [13, 16, 7, 12, 14, 14, 14, 14, 2],
  );
});

test('grpc-message percent-encodes what is not printable ASCII, and % itself', () => {
  assert.equal(encodeGrpcMessage('no route for host "x"'), 'no route for host "x"');
  assert.equal(encodeGrpcMessage('100% é\n'), '100%25 %C3%A9%0A');
});
