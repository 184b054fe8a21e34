// envoy.filters.http.local_ratelimit on the merged token buckets: listener or per-route, 429 + headers, flag RL.

import type { HttpFilterConfig } from '../../../config/model.js';
import { generateDescriptors, selectRateLimitPolicies } from '../../../ratelimit/descriptors.js';
import { LocalRateLimitFilter } from '../../../ratelimit/local-filter.js';
import { HeaderList } from '../../headers.js';
import type { Handler } from '../../message.js';
import { pipelineReply } from '../local-reply.js';
import { applyHeadersToAdd } from '../router/header-ops.js';
import { streamOf } from '../stream.js';
import { rateLimitRequestInfo } from './descriptors.js';
import type { Filter, FilterEnv } from './types.js';

/**
 * The route's `typed_per_filter_config` replaces the listener's config (and has its own bucket); descriptor
 * buckets are charged from the route's `rate_limits`. A limited request is answered locally with the
 * configured status (429), Envoy's body `local_rate_limited` and the response headers; gRPC gets UNAVAILABLE.
 */
export function localRateLimitFilter(
  config: HttpFilterConfig,
  env: FilterEnv,
  sourceCluster: string,
): Filter {
  if (config.kind !== 'localRateLimit') throw new Error(`filter "${config.name}" is not a local rate limit`);
  const listener = config.config;
  const limiter = new LocalRateLimitFilter(listener, { clock: env.clock, random: env.random });
  const scope = env.deps.telemetry.stats.scope(listener.statPrefix, 'http_local_rate_limit');
  const limited = scope.counter('rate_limited');
  const ok = scope.counter('ok');
  return (next: Handler): Handler =>
    async (req, ctx) => {
      const s = streamOf(ctx);
      if (s === undefined) return next(req, ctx);
      const routeModel = s.route?.localRateLimit;
      const routeConfig = routeModel;
      const active = routeConfig ?? listener;
      let descriptors: ReturnType<typeof generateDescriptors> | undefined;
      if (active.descriptors.length > 0 && s.route?.action.kind === 'route') {
        const policies = selectRateLimitPolicies({
          route: s.route.action.rateLimits,
          virtualHost: s.vhost?.rateLimits ?? [],
          vhRateLimits: active.vhRateLimits,
        });
        descriptors = generateDescriptors(
          policies,
          rateLimitRequestInfo(s, req, sourceCluster),
          active.stage,
        );
      }
      const decision = limiter.check({ routeConfig, descriptors, connection: s.conn });
      if (decision.limited) {
        limited.inc();
        const headers = new HeaderList();
        applyHeadersToAdd(headers, decision.responseHeadersToAdd);
        return pipelineReply(s, {
          status: decision.status,
          grpcStatus: decision.grpcStatus,
          flag: 'RL',
          reason: `local rate limit "${active.statPrefix}"${s.route ? ` on route "${s.route.name}"` : ''} exhausted its token bucket${active.tokenBucket ? ` (${active.tokenBucket.maxTokens} per ${active.tokenBucket.fillIntervalMs}ms)` : ''}`,
          body: decision.body,
          headers,
          details: 'local_rate_limited',
        });
      }
      ok.inc();
      if (decision.requestHeadersToAdd.length > 0)
        applyHeadersToAdd(req.headers, decision.requestHeadersToAdd);
      const res = await next(req, ctx);
      if (decision.responseHeadersToAdd.length > 0)
        applyHeadersToAdd(res.headers, decision.responseHeadersToAdd);
      return res;
    };
}
