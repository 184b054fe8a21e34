// envoy.filters.http.ratelimit: descriptors from route and virtual host rate_limits, asked of the RLS cluster.

import type { HttpFilterConfig } from '../../../config/model.js';
import { generateDescriptors, selectRateLimitPolicies } from '../../../ratelimit/descriptors.js';
import type { RateLimitClient } from '../../../ratelimit/global-client.js';
import { GlobalRateLimitFilter } from '../../../ratelimit/global-filter.js';
import { HeaderList } from '../../headers.js';
import type { Handler } from '../../message.js';
import { pipelineReply } from '../local-reply.js';
import { applyHeadersToAdd } from '../router/header-ops.js';
import { streamOf } from '../stream.js';
import { rateLimitRequestInfo } from './descriptors.js';
import type { Filter, FilterEnv } from './types.js';

/**
 * Over the limit: the service's status (429), flag RL, `x-envoy-ratelimited`. The service failing: pass
 * (fail open) or, with failure_mode_deny, answer `status_on_error` with flag RLSE. Stats
 * `cluster.<rls cluster>.ratelimit.{ok,over_limit,error,failure_mode_allowed}`.
 */
export function globalRateLimitFilter(
  config: HttpFilterConfig,
  env: FilterEnv,
  opts: { client: (cluster: string) => RateLimitClient; sourceCluster: string },
): Filter {
  if (config.kind !== 'rateLimit') throw new Error(`filter "${config.name}" is not a global rate limit`);
  const cfg = config.config;
  const client = cfg.serviceCluster === undefined ? undefined : opts.client(cfg.serviceCluster);
  const filter = new GlobalRateLimitFilter({ config: cfg, client, logger: env.logger });
  const scope = env.deps.telemetry.stats.scope('cluster', cfg.serviceCluster ?? '', 'envoy_cluster_name');
  const ok = scope.counter('ratelimit.ok');
  const over = scope.counter('ratelimit.over_limit');
  const error = scope.counter('ratelimit.error');
  const allowed = scope.counter('ratelimit.failure_mode_allowed');
  return (next: Handler): Handler =>
    async (req, ctx) => {
      const s = streamOf(ctx);
      const route = s?.route;
      if (s === undefined || route === undefined || route.action.kind !== 'route') return next(req, ctx);
      const policies = selectRateLimitPolicies({
        route: route.action.rateLimits,
        virtualHost: s.vhost?.rateLimits ?? [],
      });
      if (policies.length === 0) return next(req, ctx);
      const descriptors = generateDescriptors(
        policies,
        rateLimitRequestInfo(s, req, opts.sourceCluster),
        cfg.stage,
      );
      if (descriptors.length === 0) return next(req, ctx);
      const d = await filter.check(descriptors);
      if (d.action === 'deny') {
        if (d.flag === 'RL') over.inc();
        else error.inc();
        const headers = new HeaderList();
        applyHeadersToAdd(headers, d.responseHeadersToAdd);
        return pipelineReply(s, {
          status: d.status,
          grpcStatus: d.grpcStatus,
          flag: d.flag,
          reason: `${d.reason} (rate limit service cluster "${cfg.serviceCluster}")`,
          body: d.body,
          headers,
          details: d.flag === 'RL' ? 'request_rate_limited' : 'rate_limiter_error',
        });
      }
      if (d.failedOpen) {
        error.inc();
        allowed.inc();
      } else ok.inc();
      if (d.requestHeadersToAdd.length > 0) applyHeadersToAdd(req.headers, d.requestHeadersToAdd);
      const res = await next(req, ctx);
      if (d.responseHeadersToAdd.length > 0) applyHeadersToAdd(res.headers, d.responseHeadersToAdd);
      return res;
    };
}
