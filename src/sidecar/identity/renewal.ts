// When to renew a certificate: at a fraction of its life (Istio: half), jittered so a fleet does not renew at once.

export interface RenewalPolicy {
  /** Fraction of the lifetime after which to renew; Istio's SECRET_GRACE_PERIOD_RATIO is 0.5. */
  fraction: number;
  /** ± this fraction of the lifetime, uniformly; Istio's jitter is 0.01. */
  jitter: number;
}

export const DEFAULT_RENEWAL: RenewalPolicy = { fraction: 0.5, jitter: 0.01 };

/** Milliseconds from `now` until the renewal of a certificate valid [notBefore, notAfter). Never negative. */
export function renewalDelayMs(opts: {
  notBefore: Date;
  notAfter: Date;
  now: number;
  policy: RenewalPolicy;
  /** Uniform in [0, 1). */
  random: () => number;
}): number {
  const start = opts.notBefore.getTime();
  const lifetime = opts.notAfter.getTime() - start;
  const offset = (opts.random() * 2 - 1) * opts.policy.jitter;
  const fraction = Math.min(0.95, Math.max(0.05, opts.policy.fraction + offset));
  return Math.max(0, Math.round(start + lifetime * fraction - opts.now));
}
