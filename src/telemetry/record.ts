// The record the sidecar fills once per HTTP request (or TCP connection); metrics, access logs and spans read it.

export type HeaderMap = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface RequestRecord {
  /** Epoch milliseconds when the first request byte arrived (Envoy's START_TIME). */
  startTime: number;
  /** Milliseconds from start to last byte out (Envoy's DURATION). */
  durationMs: number;
  /** `HTTP/1.1`, `HTTP/2`, or undefined for TCP. */
  protocol?: string;
  method?: string;
  /** Request path including the query string, as received. */
  path?: string;
  authority?: string;
  scheme?: string;
  /** Lower-case request header names (as node:http delivers them). */
  requestHeaders?: HeaderMap;
  responseHeaders?: HeaderMap;
  responseTrailers?: HeaderMap;
  /** 0 when no response was sent (and always 0 for TCP). */
  responseCode: number;
  /** Envoy response flags joined with ',' (`UH`, `UO,URX`); `-` or empty when none. */
  responseFlags: string;
  responseCodeDetails?: string;
  connectionTerminationDetails?: string;
  /** gRPC status from trailers or headers, when the request was gRPC. */
  grpcStatus?: number;
  isGrpc?: boolean;
  /** Body bytes received from downstream / sent to downstream (TCP: all bytes). */
  bytesReceived: number;
  bytesSent: number;
  upstreamHost?: string;
  upstreamCluster?: string;
  upstreamLocalAddress?: string;
  upstreamTransportFailureReason?: string;
  downstreamLocalAddress?: string;
  downstreamRemoteAddress?: string;
  requestedServerName?: string;
  routeName?: string;
  downstreamPeerUriSan?: string;
  downstreamLocalUriSan?: string;
  upstreamPeerUriSan?: string;
  traceId?: string;
  upstreamRequestAttemptCount?: number;
}

/** Request id as logged: the `x-request-id` header. */
export function headerValue(headers: HeaderMap | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.join(',');
}
