// Retry budget settings, shared by both planes: the DestinationRule extension, the annotation, the cluster
// metadata that carries them to the sidecar, and the defaults.

import type { RetryBudget as RetryBudgetSpec } from '../api/types/networking.js';
import { parseDuration } from './duration.js';
import { TrellisError } from './errors.js';

export interface RetryBudgetConfig {
  /** Retries as a fraction of recent requests: 0.2 allows one retry per five requests. */
  percent: number;
  /** Retries always allowed per second, whatever the ratio (so low-traffic services can retry). */
  minRetriesPerSecond: number;
  /** How far back "recent" reaches (Linkerd's `ttl`, 10 s). */
  ttlMs: number;
}

/** On by default: 20% plus 10 retries per second over 10 s, Linkerd's defaults. */
export const DEFAULT_RETRY_BUDGET: Readonly<RetryBudgetConfig> = Object.freeze({
  percent: 0.2,
  minRetriesPerSecond: 10,
  ttlMs: 10_000,
});

export const RETRY_BUDGET_ANNOTATION = 'trellis.dev/retry-budget';
/** The cluster metadata key carrying the budget from control plane to sidecar (docs/xds-contract.md §5). */
export const RETRY_BUDGET_METADATA_KEY = 'trellis.retry_budget';

/** Tower accepts up to 1000%; beyond that the number is almost certainly a percentage written as such. */
const MAX_FRACTION = 10;

function check(config: RetryBudgetConfig, source: string): RetryBudgetConfig {
  if (!Number.isFinite(config.percent) || config.percent < 0) {
    throw new TrellisError('RETRY_BUDGET', `${source}: percent must be a number >= 0, got ${config.percent}`);
  }
  if (config.percent > MAX_FRACTION) {
    throw new TrellisError(
      'RETRY_BUDGET',
      `${source}: percent is a fraction (0.2 means 20%), got ${config.percent}; did you mean ${config.percent / 100}?`,
    );
  }
  if (!Number.isFinite(config.minRetriesPerSecond) || config.minRetriesPerSecond < 0) {
    throw new TrellisError(
      'RETRY_BUDGET',
      `${source}: minRetriesPerSecond must be a number >= 0, got ${config.minRetriesPerSecond}`,
    );
  }
  if (!(config.ttlMs >= 1000 && config.ttlMs <= 60_000)) {
    throw new TrellisError(
      'RETRY_BUDGET',
      `${source}: ttl must be between 1s and 60s, got ${config.ttlMs}ms`,
    );
  }
  return config;
}

/** `trafficPolicy.retryBudget` of a DestinationRule, `percent` in percent (20 = 20%); missing fields take the defaults. */
export function retryBudgetFromSpec(
  spec: RetryBudgetSpec,
  source = 'trafficPolicy.retryBudget',
): RetryBudgetConfig {
  if (spec.percent !== undefined && !(spec.percent >= 0 && spec.percent <= 1000)) {
    throw new TrellisError(
      'RETRY_BUDGET',
      `${source}: percent must be between 0 and 1000 (20 means 20%), got ${spec.percent}`,
    );
  }
  return check(
    {
      percent: spec.percent === undefined ? DEFAULT_RETRY_BUDGET.percent : spec.percent / 100,
      minRetriesPerSecond: spec.minRetriesPerSecond ?? DEFAULT_RETRY_BUDGET.minRetriesPerSecond,
      ttlMs: DEFAULT_RETRY_BUDGET.ttlMs,
    },
    source,
  );
}

/**
 * The annotation `trellis.dev/retry-budget: "20%,10"`: a percentage (with `%`) or a fraction, then
 * optionally the minimum retries per second and a TTL (`"20%,10,10s"`).
 */
export function parseRetryBudgetAnnotation(
  value: string,
  source = RETRY_BUDGET_ANNOTATION,
): RetryBudgetConfig {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length < 1 || parts.length > 3 || parts[0] === '') {
    throw new TrellisError(
      'RETRY_BUDGET',
      `${source}: expected "<percent>%[,<min retries/s>[,<ttl>]]", got "${value}"`,
    );
  }
  const [ratioText = '', minText, ttlText] = parts;
  const percent = ratioText.endsWith('%') ? Number(ratioText.slice(0, -1)) / 100 : Number(ratioText);
  if (ratioText === '%' || Number.isNaN(percent)) {
    throw new TrellisError('RETRY_BUDGET', `${source}: "${ratioText}" is not a percentage like "20%"`);
  }
  const minRetriesPerSecond =
    minText === undefined ? DEFAULT_RETRY_BUDGET.minRetriesPerSecond : Number(minText);
  if (Number.isNaN(minRetriesPerSecond) || minText === '') {
    throw new TrellisError('RETRY_BUDGET', `${source}: "${minText}" is not a number of retries per second`);
  }
  const ttlMs = ttlText === undefined ? DEFAULT_RETRY_BUDGET.ttlMs : parseTtl(ttlText, source);
  return check({ percent, minRetriesPerSecond, ttlMs }, source);
}

function parseTtl(text: string, source: string): number {
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new TrellisError('RETRY_BUDGET', `${source}: "${text}" is not a duration like "10s"`);
  return ms;
}

/** The metadata the control plane puts on a cluster for a resolved budget (docs/xds-contract.md §5). */
export function retryBudgetMetadata(config: RetryBudgetConfig): {
  percent: number;
  min_retries_per_second: number;
} {
  return {
    percent: Math.round(config.percent * 100_000) / 1000,
    min_retries_per_second: config.minRetriesPerSecond,
  };
}

/** The budget as the control plane sends it in `metadata.filter_metadata["trellis.retry_budget"]`. */
export function retryBudgetFromMetadata(
  value: { percent?: unknown; min_retries_per_second?: unknown } | undefined,
  cluster: string,
): RetryBudgetConfig {
  if (!value) return DEFAULT_RETRY_BUDGET;
  // The metadata carries percent in percent (20 = 20%), like the DestinationRule field.
  const percent =
    value.percent === undefined
      ? DEFAULT_RETRY_BUDGET.percent
      : typeof value.percent === 'number'
        ? value.percent / 100
        : value.percent;
  const min = value.min_retries_per_second ?? DEFAULT_RETRY_BUDGET.minRetriesPerSecond;
  if (typeof percent !== 'number' || typeof min !== 'number') {
    throw new TrellisError(
      'RETRY_BUDGET',
      `cluster "${cluster}" metadata ${RETRY_BUDGET_METADATA_KEY}: percent and min_retries_per_second must be numbers`,
    );
  }
  return check(
    { percent, minRetriesPerSecond: min, ttlMs: DEFAULT_RETRY_BUDGET.ttlMs },
    `cluster "${cluster}" metadata ${RETRY_BUDGET_METADATA_KEY}`,
  );
}

/**
 * The effective budget for a destination: the DestinationRule field wins, then the annotation, then
 * the default (budgets are on unless a rule sets `percent: 0` and `minRetriesPerSecond: 0`).
 */
export function resolveRetryBudget(opts: {
  spec?: RetryBudgetSpec | undefined;
  annotations?: Readonly<Record<string, string>> | undefined;
  source?: string;
}): RetryBudgetConfig {
  if (opts.spec)
    return retryBudgetFromSpec(opts.spec, `${opts.source ?? 'DestinationRule'} trafficPolicy.retryBudget`);
  const annotation = opts.annotations?.[RETRY_BUDGET_ANNOTATION];
  if (annotation !== undefined) {
    return parseRetryBudgetAnnotation(
      annotation,
      `${opts.source ?? 'annotation'} ${RETRY_BUDGET_ANNOTATION}`,
    );
  }
  return DEFAULT_RETRY_BUDGET;
}
