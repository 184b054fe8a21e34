// Control headers a request from outside may not set: which ones, and removing them in one pass.

import type { HeaderList } from '../../headers.js';

/** Istio's metadata exchange headers: a peer may only set them sidecar to sidecar. */
export const PEER_METADATA_ID_HEADER = 'x-envoy-peer-metadata-id';
export const PEER_METADATA_HEADER = 'x-envoy-peer-metadata';

/**
 * The x-envoy-* headers that steer this proxy (retries, timeouts, tracing, identity of the caller); Envoy's
 * header sanitizing list. Kept for trusted (internal, mesh) callers, removed from untrusted ones.
 */
const ENVOY_CONTROL = new Set([
  'x-envoy-decorator-operation',
  'x-envoy-downstream-service-cluster',
  'x-envoy-downstream-service-node',
  'x-envoy-expected-rq-timeout-ms',
  'x-envoy-external-address',
  'x-envoy-force-trace',
  'x-envoy-internal',
  'x-envoy-ip-tags',
  'x-envoy-max-retries',
  'x-envoy-retry-grpc-on',
  'x-envoy-retry-on',
  'x-envoy-retriable-status-codes',
  'x-envoy-retriable-header-names',
  'x-envoy-upstream-alt-stat-name',
  'x-envoy-upstream-rq-per-try-timeout-ms',
  'x-envoy-upstream-rq-timeout-alt-response',
  'x-envoy-upstream-rq-timeout-ms',
  'x-envoy-upstream-stream-duration-ms',
  'x-envoy-hedge-on-per-try-timeout',
  'x-envoy-original-url',
]);

export interface SanitizePolicy {
  /**
   * The caller may steer this proxy with x-envoy-* control headers: Envoy's internal requests. A sidecar's
   * own app (outbound) and mesh peers with a verified identity (inbound) are trusted; edge requests are not.
   */
  trusted: boolean;
  /** Edge requests (a gateway's external traffic) lose every x-envoy-* header, not only the control ones. */
  edge: boolean;
}

/**
 * Removes what an untrusted caller may not send: `x-trellis-*` always (Trellis's own channel), the x-envoy-*
 * control headers unless trusted, every `x-envoy-*` at the edge, and the peer-metadata headers always (an
 * inbound sidecar reads its peer's before this runs; an app must not pose as another workload). One pass over the list; most requests have none of these and pay only the prefix checks.
 */
export function sanitizeRequestHeaders(headers: HeaderList, policy: SanitizePolicy): number {
  let doomed: string[] | undefined;
  const n = headers.size;
  for (let i = 0; i < n; i++) {
    const name = headers.nameAt(i);
    if (name.length < 9 || name.charCodeAt(0) !== 120 /* x */ || name.charCodeAt(1) !== 45) continue;
    let drop = false;
    if (name.startsWith('x-trellis-')) drop = true;
    else if (name.startsWith('x-envoy-')) {
      if (name === PEER_METADATA_HEADER || name === PEER_METADATA_ID_HEADER) drop = true;
      else drop = policy.edge || (!policy.trusted && ENVOY_CONTROL.has(name));
    }
    if (!drop) continue;
    if (doomed === undefined) doomed = [name];
    else doomed.push(name);
  }
  if (doomed === undefined) return 0;
  let removed = 0;
  for (const name of doomed) removed += headers.remove(name);
  return removed;
}
