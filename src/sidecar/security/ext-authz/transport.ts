// How the ext_authz filter reaches the authorization service: an interface over "send this to cluster X".

import type { CheckRequest, CheckResponse } from '../../../xds/gen/envoy/service/auth/v3/external_auth_pb.js';
import type { HeaderValue } from '../header-edits.js';

export interface HttpCheckRequest {
  /** The cluster named by `http_service.server_uri.cluster`. */
  cluster: string;
  method: string;
  /** `path_prefix` + the original path (query included). */
  path: string;
  /** Lower-case names; `:authority` travels as `host`. A repeated header appears once per value. */
  headers: HeaderValue[];
  timeoutMs: number;
}

export interface HttpCheckResponse {
  status: number;
  /** Lower-case names, every value. */
  headers: HeaderValue[];
  body: Buffer;
}

export interface GrpcCheckRequest {
  /** The cluster named by `grpc_service.envoy_grpc.cluster_name`. */
  cluster: string;
  request: CheckRequest;
  timeoutMs: number;
}

/**
 * Sends check calls to a cluster. Implementations reject on connection failure, timeout or a failed gRPC call;
 * the filter turns a rejection into `status_on_error` or, with `failure_mode_allow`, lets the request through.
 * The sidecar implements it over its upstream pools; `NodeExtAuthzTransport` is a direct one for tests and tools.
 */
export interface ExtAuthzTransport {
  httpCheck(req: HttpCheckRequest): Promise<HttpCheckResponse>;
  grpcCheck(req: GrpcCheckRequest): Promise<CheckResponse>;
}
