// The request headers an app must copy onto its own outbound calls so the mesh can stitch one trace (Istio's Bookinfo list).

import type { IncomingHttpHeaders } from 'node:http';

/** Zipkin B3 multi-header context; Trellis sidecars read and write these. */
export const B3_HEADERS = [
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
] as const;

/**
 * What productpage's getForwardHeaders() copies unchanged, in Istio's order. x-request-id keeps access logs
 * and trace sampling consistent across hops; the others serve other tracers or carry the user's session.
 */
export const CONTEXT_HEADERS = [
  'x-request-id',
  'x-ot-span-context',
  'x-datadog-trace-id',
  'x-datadog-parent-id',
  'x-datadog-sampling-priority',
  'traceparent',
  'tracestate',
  'x-cloud-trace-context',
  'grpc-trace-bin',
  'sw8',
  'user-agent',
  'cookie',
  'authorization',
  'jwt',
] as const;

/** Copies the named headers that are present on the inbound request. */
export function forwardHeaders(
  incoming: IncomingHttpHeaders,
  names: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = incoming[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
  }
  return out;
}
