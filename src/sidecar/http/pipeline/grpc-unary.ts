// A unary gRPC call sent through the cluster manager (Envoy's envoy_grpc): for the rate limit service.

import { type DescMessage, fromBinary, type MessageShape, toBinary } from '@bufbuild/protobuf';
import type { Clock } from '../../../shared/clock.js';
import { errorMessage, TrellisError } from '../../../shared/errors.js';
import type { ClusterManager } from '../../runtime/contracts.js';
import { responseOutcome } from '../../upstream/outlier/outcome.js';
import { bufferBody, readBody } from '../body.js';
import { Cancellation } from '../cancel.js';
import { HeaderList } from '../headers.js';
import { createRequest } from '../message.js';
import { grpcStatusOf } from './grpc.js';
import { timeoutReason } from './router/deadline.js';

export interface GrpcUnaryCall<I extends DescMessage, O extends DescMessage> {
  clusters: ClusterManager;
  cluster: string;
  /** `/package.Service/Method`. */
  path: string;
  /** `:authority`; by default derived from the cluster name (`grpcAuthority`). */
  authority?: string;
  request: MessageShape<I>;
  requestSchema: I;
  responseSchema: O;
  timeoutMs: number;
  clock: Clock;
}

/**
 * Envoy's envoy_grpc sends the cluster name as `:authority`; Istio's names (`outbound|8081||rls.ns.svc...`)
 * hold `|`, which nghttp2-based servers (node, grpc-js) refuse with PROTOCOL_ERROR. Such a name becomes the
 * service's `host:port`; other names that are not valid authorities become `localhost`.
 */
export function grpcAuthority(cluster: string): string {
  const parts = cluster.split('|');
  if (parts.length === 4 && /^\d+$/.test(parts[1]!) && parts[3]) return `${parts[3]}:${parts[1]}`;
  return /^[A-Za-z0-9.\-_~:[\]]+$/.test(cluster) ? cluster : 'localhost';
}

function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/**
 * POSTs one length-prefixed message over the cluster (HTTP/2 for gRPC clusters) with a `grpc-timeout`, and
 * decodes the single response message. Rejects with GRPC_CALL_FAILED naming the cluster and the status.
 */
export async function grpcUnary<I extends DescMessage, O extends DescMessage>(
  call: GrpcUnaryCall<I, O>,
): Promise<MessageShape<O>> {
  const cluster = call.clusters.get(call.cluster);
  if (cluster === undefined) {
    throw new TrellisError('GRPC_CALL_FAILED', `gRPC cluster "${call.cluster}" is not known`);
  }
  const signal = new Cancellation();
  const timer = call.clock.setTimeout(
    () => signal.abort(timeoutReason(`gRPC call to "${call.cluster}" timed out after ${call.timeoutMs}ms`)),
    call.timeoutMs,
  );
  try {
    const headers = new HeaderList();
    headers.set('content-type', 'application/grpc');
    headers.set('te', 'trailers');
    headers.set('grpc-timeout', `${Math.max(1, Math.ceil(call.timeoutMs))}m`);
    const req = createRequest({
      method: 'POST',
      path: call.path,
      authority: call.authority ?? grpcAuthority(call.cluster),
      version: '2',
      headers,
      body: bufferBody(frame(toBinary(call.requestSchema, call.request))),
    });
    const attempt = await cluster.request(req, { signal });
    attempt.done(responseOutcome(attempt.response.status));
    const res = attempt.response;
    if (res.status !== 200) {
      res.body.cancel();
      throw new TrellisError(
        'GRPC_CALL_FAILED',
        `gRPC call to "${call.cluster}" answered HTTP ${res.status}`,
      );
    }
    const { data, trailers } = await readBody(res.body, { limitBytes: 4 * 1024 * 1024 });
    const status = grpcStatusOf(trailers) ?? grpcStatusOf(res.headers);
    if (status !== 0) {
      const message = trailers?.get('grpc-message') ?? res.headers.get('grpc-message') ?? '';
      throw new TrellisError(
        'GRPC_CALL_FAILED',
        `gRPC call to "${call.cluster}" failed with status ${status ?? 'missing'}${message ? `: ${decodeURIComponent(message)}` : ''}`,
        { grpcStatus: status },
      );
    }
    if (data.length < 5)
      throw new TrellisError('GRPC_CALL_FAILED', `gRPC call to "${call.cluster}" returned no message`);
    return fromBinary(call.responseSchema, data.subarray(5, 5 + data.readUInt32BE(1)));
  } catch (e) {
    if (e instanceof TrellisError && e.code === 'GRPC_CALL_FAILED') throw e;
    throw new TrellisError(
      'GRPC_CALL_FAILED',
      `gRPC call to "${call.cluster}" failed: ${errorMessage(e)}`,
      undefined,
      {
        cause: e,
      },
    );
  } finally {
    call.clock.clearTimeout(timer);
  }
}
