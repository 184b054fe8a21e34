// typed_per_filter_config on routes, virtual hosts and route configurations: fault, CORS and local rate limit.

import type { Any } from '@bufbuild/protobuf/wkt';
import { CorsPolicySchema } from '../../../xds/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { HTTPFaultSchema } from '../../../xds/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { LocalRateLimitSchema } from '../../../xds/gen/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import type { CorsConfig, FaultConfig, LocalRateLimitConfig } from '../model.js';
import { corsConfig } from './cors.js';
import { faultConfig } from './fault.js';
import { localRateLimit } from './http-filters.js';
import type { DecodeContext } from './problems.js';
import { effectiveTypeUrl, typeUrlOf, unpackTyped } from './typed.js';

export interface PerFilterConfigs {
  fault?: FaultConfig;
  cors?: CorsConfig;
  localRateLimit?: LocalRateLimitConfig;
}

/**
 * Decodes the map by the config's type: the filter it overrides is the one of that kind. (Envoy keys the
 * map by filter name; Istio names each filter after its kind, so the two agree for every config it emits.)
 */
export function perFilterConfigs(
  ctx: DecodeContext,
  map: { [name: string]: Any },
  path: string,
): PerFilterConfigs {
  const out: PerFilterConfigs = {};
  for (const name of Object.keys(map).sort()) {
    const any = map[name]!;
    const p = `${path}["${name}"]`;
    const type = effectiveTypeUrl(any);
    if (type === typeUrlOf(HTTPFaultSchema)) {
      const m = unpackTyped(ctx, any, HTTPFaultSchema, p);
      if (m) out.fault = faultConfig(ctx, m, p);
    } else if (type === typeUrlOf(CorsPolicySchema)) {
      const m = unpackTyped(ctx, any, CorsPolicySchema, p);
      if (m) out.cors = corsConfig(ctx, m, p);
    } else if (type === typeUrlOf(LocalRateLimitSchema)) {
      const c = localRateLimit(ctx, any, p, true);
      if (c) out.localRateLimit = c;
    } else {
      ctx.report(p, `unsupported per-filter config ${type} for "${name}"`);
    }
  }
  return out;
}
