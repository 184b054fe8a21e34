// Control headers a sidecar never takes from untrusted traffic (Envoy's header sanitizing, plus Trellis's own).

/**
 * Removed from every request that is not internal (Envoy's `cleanInternalHeaders`): they steer retries,
 * timeouts, tracing and stats, so a client must not set them. `x-envoy-internal` is always recomputed.
 */
export const ENVOY_INTERNAL_ONLY_HEADERS: readonly string[] = Object.freeze([
  'x-envoy-internal',
  'x-envoy-retriable-status-codes',
  'x-envoy-retriable-header-names',
  'x-envoy-retry-on',
  'x-envoy-retry-grpc-on',
  'x-envoy-max-retries',
  'x-envoy-upstream-alt-stat-name',
  'x-envoy-upstream-rq-timeout-ms',
  'x-envoy-upstream-rq-per-try-timeout-ms',
  'x-envoy-upstream-rq-timeout-alt-response',
  'x-envoy-expected-rq-timeout-ms',
  'x-envoy-force-trace',
  'x-envoy-ip-tags',
  'x-envoy-original-url',
  'x-envoy-hedge-on-per-try-timeout',
]);

/** Removed only at the edge: between meshed proxies they carry the caller's cluster and span name. */
export const ENVOY_EDGE_ONLY_HEADERS: readonly string[] = Object.freeze([
  'x-envoy-decorator-operation',
  'x-envoy-downstream-service-cluster',
  'x-envoy-downstream-service-node',
]);

const INTERNAL_ONLY = new Set(ENVOY_INTERNAL_ONLY_HEADERS);

export interface SanitizeOptions {
  /**
   * An edge request (Envoy: `use_remote_address` and not internal), as on a gateway: every `x-envoy-*` header
   * goes, including the peer-metadata exchange headers sidecars use among themselves.
   */
  edge: boolean;
}

/**
 * True when a request header (lower-case name) must be removed before the request is routed. `x-trellis-*`
 * headers are Trellis's own control channel and never accepted from outside. XFCC is decided separately
 * (`xfccAction`), because some modes forward it.
 */
export function isUntrustedControlHeader(name: string, opts: SanitizeOptions): boolean {
  if (name.startsWith('x-trellis-')) return true;
  if (!name.startsWith('x-envoy-')) return false;
  return opts.edge || INTERNAL_ONLY.has(name);
}

/** The request headers to remove, in the order given. */
export function controlHeadersToRemove(names: Iterable<string>, opts: SanitizeOptions): string[] {
  const out: string[] = [];
  for (const name of names) {
    const lower = name.toLowerCase();
    if (isUntrustedControlHeader(lower, opts)) out.push(lower);
  }
  return out;
}
