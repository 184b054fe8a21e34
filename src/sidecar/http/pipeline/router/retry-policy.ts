// The retry policy a request runs under (route, virtual host, trusted x-envoy-* headers) and its decisions.

import type { HeaderMatcher, RetryPolicyConfig } from '../../../config/model.js';
import type { HeaderList } from '../../headers.js';
import { grpcStatusOf } from '../grpc.js';
import { DEFAULT_BACKOFF_BASE_MS, defaultBackoffMaxMs } from './backoff.js';

/** Envoy's retry_on conditions as bits. */
export const RETRY_ON = Object.freeze({
  '5xx': 1 << 0,
  'gateway-error': 1 << 1,
  'connect-failure': 1 << 2,
  'retriable-4xx': 1 << 3,
  'refused-stream': 1 << 4,
  'retriable-status-codes': 1 << 5,
  reset: 1 << 6,
  'retriable-headers': 1 << 7,
  'envoy-ratelimited': 1 << 8,
  'reset-before-request': 1 << 9,
  cancelled: 1 << 10,
  'deadline-exceeded': 1 << 11,
  internal: 1 << 12,
  'resource-exhausted': 1 << 13,
  unavailable: 1 << 14,
});

type RetryOnName = keyof typeof RETRY_ON;
const GRPC_BITS =
  RETRY_ON.cancelled |
  RETRY_ON['deadline-exceeded'] |
  RETRY_ON.internal |
  RETRY_ON['resource-exhausted'] |
  RETRY_ON.unavailable;

/** gRPC status → the retry_on bit that retries it. */
const GRPC_STATUS_BIT: Record<number, number> = {
  1: RETRY_ON.cancelled,
  4: RETRY_ON['deadline-exceeded'],
  8: RETRY_ON['resource-exhausted'],
  13: RETRY_ON.internal,
  14: RETRY_ON.unavailable,
};

export function retryOnBits(names: Iterable<string>): number {
  let bits = 0;
  for (const raw of names) {
    const name = raw.trim() as RetryOnName;
    if (name in RETRY_ON) bits |= RETRY_ON[name];
  }
  return bits;
}

/** The policy as the router evaluates it for one request. */
export interface EffectiveRetryPolicy {
  retryOn: number;
  numRetries: number;
  perTryTimeoutMs: number | undefined;
  retriableStatusCodes: ReadonlySet<number>;
  retriableHeaders: readonly HeaderMatcher[];
  /** From x-envoy-retriable-header-names: response headers whose presence is retriable. */
  retriableHeaderNames: readonly string[];
  previousHosts: boolean;
  hostSelectionRetryMaxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

const compiled = new WeakMap<RetryPolicyConfig, EffectiveRetryPolicy>();
const NO_CODES: ReadonlySet<number> = new Set();

function fromConfig(c: RetryPolicyConfig): EffectiveRetryPolicy {
  let p = compiled.get(c);
  if (p === undefined) {
    const base = c.backoffBaseMs > 0 ? c.backoffBaseMs : DEFAULT_BACKOFF_BASE_MS;
    p = {
      retryOn: retryOnBits(c.retryOn),
      numRetries: c.numRetries,
      perTryTimeoutMs: c.perTryTimeoutMs || undefined,
      retriableStatusCodes: c.retriableStatusCodes,
      retriableHeaders: c.retriableHeaders,
      retriableHeaderNames: [],
      previousHosts: c.previousHosts,
      hostSelectionRetryMaxAttempts: c.hostSelectionRetryMaxAttempts,
      backoffBaseMs: base,
      backoffMaxMs: c.backoffMaxMs > 0 ? c.backoffMaxMs : defaultBackoffMaxMs(base),
    };
    compiled.set(c, p);
  }
  return p;
}

const RETRY_HEADERS = [
  'x-envoy-retry-on',
  'x-envoy-retry-grpc-on',
  'x-envoy-max-retries',
  'x-envoy-retriable-status-codes',
  'x-envoy-retriable-header-names',
] as const;

function splitList(v: string | undefined): string[] {
  return v === undefined
    ? []
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
}

/**
 * The route's policy wins whole over the virtual host's (Envoy). A trusted caller's x-envoy-retry-on /
 * -retry-grpc-on add conditions (one retry by default), x-envoy-max-retries replaces the count, and the
 * status-code / header-name headers extend their lists. The router consumes these headers: they are removed.
 */
export function effectiveRetryPolicy(
  route: RetryPolicyConfig | undefined,
  vhost: RetryPolicyConfig | undefined,
  headers: HeaderList,
  trusted: boolean,
): EffectiveRetryPolicy | undefined {
  const config = route ?? vhost;
  let policy = config === undefined ? undefined : fromConfig(config);
  if (!trusted) return policy;
  const retryOn = headers.get('x-envoy-retry-on');
  const grpcOn = headers.get('x-envoy-retry-grpc-on');
  const max = headers.get('x-envoy-max-retries');
  const codes = headers.get('x-envoy-retriable-status-codes');
  const names = headers.get('x-envoy-retriable-header-names');
  if (
    retryOn === undefined &&
    grpcOn === undefined &&
    max === undefined &&
    codes === undefined &&
    names === undefined
  ) {
    return policy;
  }
  for (const h of RETRY_HEADERS) headers.remove(h);
  const extra = retryOnBits(splitList(retryOn)) | retryOnBits(splitList(grpcOn));
  const base: EffectiveRetryPolicy = policy ?? {
    retryOn: 0,
    numRetries: 1,
    perTryTimeoutMs: undefined,
    retriableStatusCodes: NO_CODES,
    retriableHeaders: [],
    retriableHeaderNames: [],
    previousHosts: false,
    hostSelectionRetryMaxAttempts: 1,
    backoffBaseMs: DEFAULT_BACKOFF_BASE_MS,
    backoffMaxMs: defaultBackoffMaxMs(DEFAULT_BACKOFF_BASE_MS),
  };
  policy = { ...base, retryOn: base.retryOn | extra };
  if (max !== undefined && policy.retryOn !== 0 && /^\d+$/.test(max.trim()))
    policy.numRetries = Number(max.trim());
  if (codes !== undefined) {
    const set = new Set(policy.retriableStatusCodes);
    for (const c of splitList(codes)) if (/^\d+$/.test(c)) set.add(Number(c));
    policy.retriableStatusCodes = set;
  }
  if (names !== undefined) policy.retriableHeaderNames = splitList(names).map((n) => n.toLowerCase());
  return policy.retryOn === 0 ? undefined : policy;
}

/**
 * Envoy's `wouldRetryFromHeaders`: never when the upstream says it is overloaded or rate limited (unless
 * `envoy-ratelimited`); 5xx, gateway errors, 409 for retriable-4xx, listed status codes, matching response
 * headers; gRPC status in the response head for the gRPC conditions (trailers never count).
 */
export function retriableResponse(p: EffectiveRetryPolicy, status: number, headers: HeaderList): boolean {
  const on = p.retryOn;
  if (headers.has('x-envoy-overloaded')) return false;
  if (headers.has('x-envoy-ratelimited')) return (on & RETRY_ON['envoy-ratelimited']) !== 0;
  if (on & RETRY_ON['5xx'] && status >= 500 && status < 600) return true;
  if (on & RETRY_ON['gateway-error'] && (status === 502 || status === 503 || status === 504)) return true;
  if (on & RETRY_ON['retriable-4xx'] && status === 409) return true;
  if (on & RETRY_ON['retriable-status-codes'] && p.retriableStatusCodes.has(status)) return true;
  if (on & RETRY_ON['retriable-headers']) {
    for (const m of p.retriableHeaders) {
      if (m.matches((name) => joinedValues(headers, name))) return true;
    }
    for (const name of p.retriableHeaderNames) if (headers.has(name)) return true;
  }
  if (on & GRPC_BITS) {
    const g = grpcStatusOf(headers);
    if (g !== undefined && (on & (GRPC_STATUS_BIT[g] ?? 0)) !== 0) return true;
  }
  return false;
}

/** How an attempt failed without a response, as the retry decision needs it. */
export type FailureKind = 'connect-failure' | 'reset' | 'refused-stream' | 'timeout' | 'overflow' | 'other';

/**
 * Envoy's `wouldRetryFromReset` (and the per-try timeout, retried as a local reset): 5xx, gateway-error and
 * reset retry any reset, connect failure or per-try timeout; refused-stream and connect-failure only their
 * own; reset-before-request a failure that happened before anything was sent. Overflow never retries.
 */
export function retriableFailure(p: EffectiveRetryPolicy, kind: FailureKind): boolean {
  const on = p.retryOn;
  if (kind === 'overflow' || kind === 'other') return false;
  if (on & (RETRY_ON['5xx'] | RETRY_ON['gateway-error'] | RETRY_ON.reset)) return true;
  if (kind === 'refused-stream' && on & RETRY_ON['refused-stream']) return true;
  if (kind === 'connect-failure' && on & (RETRY_ON['connect-failure'] | RETRY_ON['reset-before-request']))
    return true;
  return false;
}

function joinedValues(headers: HeaderList, name: string): string | undefined {
  const values = headers.getAll(name);
  return values.length === 0 ? undefined : values.join(',');
}
