// How one upstream attempt ended, classified once and shared by retries, outlier detection and metrics.

/**
 * `response`: the upstream answered with a status (external origin). The others are local-origin
 * failures the proxy saw itself: it could not connect (UF), the connection was reset or closed before
 * the response completed (UC/UR), or the per-try/route timeout fired (UT).
 */
export type UpstreamOutcome =
  | { readonly kind: 'response'; readonly status: number }
  | { readonly kind: 'connect-failure' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'timeout' };

export const CONNECT_FAILURE: UpstreamOutcome = Object.freeze({ kind: 'connect-failure' });
export const RESET: UpstreamOutcome = Object.freeze({ kind: 'reset' });
export const TIMEOUT: UpstreamOutcome = Object.freeze({ kind: 'timeout' });

const RESPONSES: UpstreamOutcome[] = [];

/** A shared, frozen outcome per status code, so classifying a response allocates nothing. */
export function responseOutcome(status: number): UpstreamOutcome {
  if (status < 100 || status > 599) return { kind: 'response', status };
  let out = RESPONSES[status];
  if (!out) {
    out = Object.freeze({ kind: 'response', status });
    RESPONSES[status] = out;
  }
  return out;
}

export function isLocalOrigin(o: UpstreamOutcome): boolean {
  return o.kind !== 'response';
}

/** Envoy's gateway errors: 502, 503 and 504 (and local connect failures, which map to 503). */
export function isGatewayError(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}

/**
 * The status a local-origin failure stands for when origins are not split, as Envoy maps them for
 * outlier detection: connect failure and reset → 503, timeout → 504.
 */
export function equivalentStatus(o: UpstreamOutcome): number {
  switch (o.kind) {
    case 'response':
      return o.status;
    case 'timeout':
      return 504;
    default:
      return 503;
  }
}
