// Replies the proxy makes itself: they name their flag and cause, and take gRPC's shape for gRPC requests.

import { EMPTY_BODY } from '../body.js';
import { HeaderList } from '../headers.js';
import { localReply, type ProxyResponse } from '../message.js';
import { encodeGrpcMessage, httpToGrpcStatus } from './grpc.js';
import type { PipelineStream } from './stream.js';

export interface PipelineReplyInit {
  status: number;
  /** The Envoy response flag the reply is recorded with (NR, UH, FI, RL...), if any. */
  flag?: string;
  /** Why, naming the config object: becomes `x-trellis-reason: <FLAG> <reason>`. */
  reason: string;
  /** Body for plain HTTP; Envoy's own text where it has one. Defaults to the reason. */
  body?: string;
  headers?: HeaderList;
  /** For gRPC requests: the status to send instead of the one mapped from `status`. */
  grpcStatus?: number;
  /** Envoy's response code details (`route_not_found`, `fault_filter_abort`...). */
  details?: string;
}

/**
 * Envoy answers a gRPC request's local reply as gRPC: HTTP 200, trailers-only, `grpc-status` mapped from the
 * HTTP status (or given), `grpc-message` with the text. Everything else gets a small text reply.
 */
export function pipelineReply(stream: PipelineStream, init: PipelineReplyInit): ProxyResponse {
  if (init.flag !== undefined) stream.setFlag(init.flag);
  stream.details = init.details ?? stream.details;
  const reason = init.flag !== undefined ? `${init.flag} ${init.reason}` : init.reason;
  if (stream.grpc) {
    const headers = init.headers ?? new HeaderList();
    const grpcStatus = init.grpcStatus ?? httpToGrpcStatus(init.status);
    headers.set('content-type', 'application/grpc');
    headers.set('grpc-status', String(grpcStatus));
    headers.set('grpc-message', encodeGrpcMessage(init.body || init.reason));
    const res = localReply({ status: 200, headers, reason });
    res.body = EMPTY_BODY;
    return res;
  }
  const body = init.body ?? `${init.reason}\n`;
  return localReply({ status: init.status, headers: init.headers, body, reason });
}
