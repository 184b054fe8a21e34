// Route and virtual host retry policies: retry_on names validated against Envoy's, predicates, back-off.

import {
  type RetryPolicy,
  RetryPolicy_RetryBackOffSchema,
  RetryPolicySchema,
} from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { PreviousHostsPredicateSchema } from '../../../xds/gen/envoy/extensions/retry/host/previous_hosts/v3/previous_hosts_pb.js';
import { PreviousPrioritiesConfigSchema } from '../../../xds/gen/envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config_pb.js';
import type { RetryPolicyConfig } from '../model.js';
import { nonNegativeMs } from './common.js';
import { fieldPolicy } from './fields.js';
import { headerMatchers } from './matchers.js';
import { at, type DecodeContext } from './problems.js';
import { effectiveTypeUrl, typeUrlOf, unpackTyped } from './typed.js';

/** Envoy's x-envoy-retry-on conditions (router filter docs), HTTP then gRPC. */
export const HTTP_RETRY_ON: readonly string[] = [
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'envoy-ratelimited',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'http3-post-connect-failure',
];
export const GRPC_RETRY_ON: readonly string[] = [
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
];
const KNOWN_RETRY_ON = new Set([...HTTP_RETRY_ON, ...GRPC_RETRY_ON]);

const PREVIOUS_HOSTS = 'envoy.retry_host_predicates.previous_hosts';
const PREVIOUS_PRIORITIES = 'envoy.retry_priorities.previous_priorities';

const RETRY_FIELDS = fieldPolicy(RetryPolicySchema, {
  handled: [
    'retry_on',
    'num_retries',
    'per_try_timeout',
    'retry_priority',
    'retry_host_predicate',
    'host_selection_retry_max_attempts',
    'retriable_status_codes',
    'retry_back_off',
    'retriable_headers',
  ],
});
const BACKOFF_FIELDS = fieldPolicy(RetryPolicy_RetryBackOffSchema, {
  handled: ['base_interval', 'max_interval'],
});

/** Envoy's defaults: one retry, 25 ms base back-off capped at ten times the base. */
const DEFAULT_BACKOFF_BASE_MS = 25;

export function retryPolicy(ctx: DecodeContext, r: RetryPolicy, path: string): RetryPolicyConfig {
  RETRY_FIELDS.check(ctx, r, path);
  const retryOn = new Set<string>();
  for (const raw of r.retryOn.split(',')) {
    const name = raw.trim();
    if (!name) continue;
    if (KNOWN_RETRY_ON.has(name)) retryOn.add(name);
    else
      ctx.report(
        at(path, 'retry_on'),
        `unknown retry condition "${name}" (Envoy's are ${[...KNOWN_RETRY_ON].join(', ')})`,
      );
  }
  const codes = new Set<number>();
  for (const code of r.retriableStatusCodes) {
    if (code < 100 || code > 599)
      ctx.report(at(path, 'retriable_status_codes'), `${code} is not an HTTP status`);
    else codes.add(code);
  }
  let previousHosts = false;
  r.retryHostPredicate.forEach((pred, i) => {
    const p = at(at(path, 'retry_host_predicate'), i);
    const type = pred.configType.case === 'typedConfig' ? effectiveTypeUrl(pred.configType.value) : undefined;
    if (
      type === typeUrlOf(PreviousHostsPredicateSchema) ||
      (type === undefined && pred.name === PREVIOUS_HOSTS)
    ) {
      if (pred.configType.case === 'typedConfig')
        unpackTyped(ctx, pred.configType.value, PreviousHostsPredicateSchema, at(p, 'typed_config'));
      previousHosts = true;
    } else {
      ctx.report(p, `retry host predicate ${type ?? pred.name} is not supported (only ${PREVIOUS_HOSTS})`);
    }
  });
  const out: RetryPolicyConfig = {
    retryOn,
    numRetries: r.numRetries ?? 1,
    retriableStatusCodes: codes,
    previousHosts,
    hostSelectionRetryMaxAttempts: Math.max(1, Number(r.hostSelectionRetryMaxAttempts)),
    backoffBaseMs: DEFAULT_BACKOFF_BASE_MS,
    backoffMaxMs: DEFAULT_BACKOFF_BASE_MS * 10,
    retriableHeaders: headerMatchers(ctx, r.retriableHeaders, at(path, 'retriable_headers')),
  };
  if (r.perTryTimeout) {
    const t = nonNegativeMs(ctx, r.perTryTimeout, at(path, 'per_try_timeout'), 0);
    if (t > 0) out.perTryTimeoutMs = t;
  }
  if (r.retryBackOff) {
    const p = at(path, 'retry_back_off');
    BACKOFF_FIELDS.check(ctx, r.retryBackOff, p);
    const base = nonNegativeMs(ctx, r.retryBackOff.baseInterval, at(p, 'base_interval'), 0);
    if (base <= 0) ctx.report(at(p, 'base_interval'), 'base_interval must be greater than 0');
    else {
      const max = nonNegativeMs(ctx, r.retryBackOff.maxInterval, at(p, 'max_interval'), base * 10);
      if (max < base)
        ctx.report(at(p, 'max_interval'), `max_interval ${max}ms is below base_interval ${base}ms`);
      out.backoffBaseMs = base;
      out.backoffMaxMs = Math.max(max, base);
    }
  }
  if (r.retryPriority) {
    const pr = r.retryPriority;
    const p = at(path, 'retry_priority');
    const type = pr.configType.case === 'typedConfig' ? effectiveTypeUrl(pr.configType.value) : undefined;
    if (type === typeUrlOf(PreviousPrioritiesConfigSchema) && pr.configType.case === 'typedConfig') {
      const cfg = unpackTyped(
        ctx,
        pr.configType.value,
        PreviousPrioritiesConfigSchema,
        at(p, 'typed_config'),
      );
      if (cfg && cfg.updateFrequency <= 0)
        ctx.report(at(p, 'typed_config.update_frequency'), 'update_frequency must be greater than 0');
      else if (cfg) out.previousPriorities = { updateFrequency: cfg.updateFrequency };
    } else {
      ctx.report(
        p,
        `retry priority ${type ?? (pr.name || '(unnamed)')} is not supported (only ${PREVIOUS_PRIORITIES} with its typed_config)`,
      );
    }
  }
  return out;
}
