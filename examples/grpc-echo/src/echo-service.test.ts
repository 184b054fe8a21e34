// Tests of the hand-written protobuf codec of the echo messages.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import {
  decodeEchoRequest,
  decodeEchoResponse,
  encodeEchoRequest,
  encodeEchoResponse,
} from './echo-service.js';

test('messages round-trip through the protobuf wire format', () => {
  const req = { message: 'héllo', count: 3, intervalMs: 250, failCode: 14 };
  assert.deepEqual(decodeEchoRequest(encodeEchoRequest(req)), req);
  const res = { message: 'm', hostname: 'pod-1', version: 'v2', index: 7 };
  assert.deepEqual(decodeEchoResponse(encodeEchoResponse(res)), res);
});

test('empty bytes are the defaults and unknown fields are skipped, as proto3 requires', () => {
  assert.deepEqual(decodeEchoRequest(new Uint8Array()), {
    message: '',
    count: 0,
    intervalMs: 0,
    failCode: 0,
  });
  const withExtra = new BinaryWriter()
    .tag(9, WireType.LengthDelimited)
    .string('from a newer client')
    .tag(1, WireType.LengthDelimited)
    .string('kept')
    .finish();
  assert.equal(decodeEchoRequest(withExtra).message, 'kept');
});
