// Builds the HTTP filter chain in config order around the router, once per connection manager.

import type { HttpFilterConfig } from '../../../config/model.js';
import type { RateLimitClient } from '../../../ratelimit/global-client.js';
import type { Handler } from '../../message.js';
import { corsFilter } from './cors.js';
import { type FaultHeaderControl, faultFilter } from './fault.js';
import { globalRateLimitFilter } from './global-ratelimit.js';
import { localRateLimitFilter } from './local-ratelimit.js';
import { missingSecurityFilter } from './security-slot.js';
import type { Filter, FilterEnv, FilterFactory } from './types.js';

export type SecurityFilterKind = 'jwt' | 'rbac' | 'extAuthz';

export interface ChainOptions {
  env: FilterEnv;
  router: Handler;
  /** Engines for jwt_authn, RBAC and ext_authz; a kind without one fails closed. */
  security: Partial<Record<SecurityFilterKind, FilterFactory>>;
  faultHeaders: FaultHeaderControl;
  rateLimitClient: (cluster: string) => RateLimitClient;
  /** Istio's node cluster `<workload>.<namespace>`, the `source_cluster` descriptor. */
  sourceCluster: string;
}

function layer(config: HttpFilterConfig, o: ChainOptions): Filter | undefined {
  switch (config.kind) {
    case 'router':
      return undefined;
    case 'fault':
      return faultFilter(config, o.env, o.faultHeaders);
    case 'cors':
      return corsFilter(o.env);
    case 'localRateLimit':
      return localRateLimitFilter(config, o.env, o.sourceCluster);
    case 'rateLimit':
      return globalRateLimitFilter(config, o.env, {
        client: o.rateLimitClient,
        sourceCluster: o.sourceCluster,
      });
    case 'jwt':
    case 'rbac':
    case 'extAuthz': {
      const factory = o.security[config.kind];
      return factory === undefined ? missingSecurityFilter(config, o.env) : factory(config, o.env);
    }
  }
}

/**
 * The first filter in the config sees the request first (Envoy's decoder order) and the response last.
 * The router is the terminal handler; the decoder guarantees it is last and that no unknown kind arrives.
 */
export function buildFilterChain(filters: readonly HttpFilterConfig[], o: ChainOptions): Handler {
  let handler = o.router;
  for (let i = filters.length - 1; i >= 0; i--) {
    const f = layer(filters[i]!, o);
    if (f !== undefined) handler = f(handler);
  }
  return handler;
}
