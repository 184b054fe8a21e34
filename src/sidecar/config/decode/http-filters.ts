// The HCM's http_filters → HttpFilterConfig[], by type URL; the router must come last, as Envoy requires.

import type { Any } from '@bufbuild/protobuf/wkt';
import { errorMessage } from '../../../shared/errors.js';
import { RateLimitServiceConfigSchema } from '../../../xds/gen/envoy/config/ratelimit/v3/rls_pb.js';
import { CorsSchema } from '../../../xds/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { ExtAuthzSchema } from '../../../xds/gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import { HTTPFaultSchema } from '../../../xds/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { JwtAuthenticationSchema } from '../../../xds/gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { LocalRateLimitSchema } from '../../../xds/gen/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import { RateLimitSchema } from '../../../xds/gen/envoy/extensions/filters/http/ratelimit/v3/rate_limit_pb.js';
import { RBACSchema as HttpRbacSchema } from '../../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RouterSchema } from '../../../xds/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import {
  type HttpFilter,
  HttpFilterSchema,
} from '../../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { globalRateLimitFromProto } from '../../ratelimit/global-config.js';
import { localRateLimitFromProto } from '../../ratelimit/local-config.js';
import type { HttpFilterConfig, LocalRateLimitConfig } from '../model.js';
import { extAuthzConfig } from './ext-authz.js';
import { faultConfig } from './fault.js';
import { fieldPolicy } from './fields.js';
import { jwtConfig } from './jwt.js';
import { at, type DecodeContext } from './problems.js';
import { rbacRules } from './rbac.js';
import { effectiveTypeUrl, requireTyped, typeUrlOf, unpackTyped } from './typed.js';

// `disabled` is refused below with the reason.
const FILTER_FIELDS = fieldPolicy(HttpFilterSchema, {
  handled: ['name', 'typed_config', 'is_optional', 'disabled'],
});
const ROUTER_FIELDS = fieldPolicy(RouterSchema, {
  handled: ['suppress_envoy_headers'],
  ignored: ['dynamic_stats', 'start_child_span', 'suppress_grpc_request_failure_code_stats'],
});
const HTTP_RBAC_FIELDS = fieldPolicy(HttpRbacSchema, {
  handled: ['rules', 'shadow_rules', 'shadow_rules_stat_prefix'],
  ignored: ['rules_stat_prefix', 'track_per_rule_stats'],
});
const LOCAL_RL_FIELDS = fieldPolicy(LocalRateLimitSchema, {
  handled: [
    'stat_prefix',
    'status',
    'token_bucket',
    'filter_enabled',
    'filter_enforced',
    'request_headers_to_add_when_not_enforced',
    'response_headers_to_add',
    'descriptors',
    'stage',
    'local_rate_limit_per_downstream_connection',
    'enable_x_ratelimit_headers',
    'vh_rate_limits',
    'always_consume_default_token_bucket',
    'rate_limited_as_resource_exhausted',
  ],
});
const GLOBAL_RL_FIELDS = fieldPolicy(RateLimitSchema, {
  handled: [
    'domain',
    'stage',
    'request_type',
    'timeout',
    'failure_mode_deny',
    'rate_limited_as_resource_exhausted',
    'rate_limit_service',
    'enable_x_ratelimit_headers',
    'disable_x_envoy_ratelimited_header',
    'rate_limited_status',
    'response_headers_to_add',
    'status_on_error',
    'stat_prefix',
  ],
});
const RLS_FIELDS = fieldPolicy(RateLimitServiceConfigSchema, {
  handled: ['grpc_service', 'transport_api_version'],
});

type Decoder = (ctx: DecodeContext, name: string, any: Any, path: string) => HttpFilterConfig | undefined;

const DECODERS = new Map<string, Decoder>([
  [
    typeUrlOf(RouterSchema),
    (ctx, name, any, path) => {
      const m = unpackTyped(ctx, any, RouterSchema, path);
      if (!m) return undefined;
      ROUTER_FIELDS.check(ctx, m, path);
      return { name, kind: 'router', suppressEnvoyHeaders: m.suppressEnvoyHeaders };
    },
  ],
  [
    typeUrlOf(HTTPFaultSchema),
    (ctx, name, any, path) => {
      const m = unpackTyped(ctx, any, HTTPFaultSchema, path);
      return m ? { name, kind: 'fault', config: faultConfig(ctx, m, path) } : undefined;
    },
  ],
  [
    typeUrlOf(CorsSchema),
    (ctx, name, any, path) => (unpackTyped(ctx, any, CorsSchema, path) ? { name, kind: 'cors' } : undefined),
  ],
  [
    typeUrlOf(HttpRbacSchema),
    (ctx, name, any, path) => {
      const m = unpackTyped(ctx, any, HttpRbacSchema, path);
      if (!m) return undefined;
      HTTP_RBAC_FIELDS.check(ctx, m, path);
      const out: HttpFilterConfig = { name, kind: 'rbac', shadowRulesStatPrefix: m.shadowRulesStatPrefix };
      if (m.rules) out.rules = rbacRules(ctx, m.rules, at(path, 'rules'));
      if (m.shadowRules) out.shadowRules = rbacRules(ctx, m.shadowRules, at(path, 'shadow_rules'));
      return out;
    },
  ],
  [
    typeUrlOf(JwtAuthenticationSchema),
    (ctx, name, any, path) => {
      const m = unpackTyped(ctx, any, JwtAuthenticationSchema, path);
      return m ? { name, kind: 'jwt', config: jwtConfig(ctx, m, path) } : undefined;
    },
  ],
  [
    typeUrlOf(ExtAuthzSchema),
    (ctx, name, any, path) => {
      const m = unpackTyped(ctx, any, ExtAuthzSchema, path);
      const config = m ? extAuthzConfig(ctx, m, path) : undefined;
      return config ? { name, kind: 'extAuthz', config } : undefined;
    },
  ],
  [
    typeUrlOf(LocalRateLimitSchema),
    (ctx, name, any, path) => {
      const config = localRateLimit(ctx, any, path, false);
      return config ? { name, kind: 'localRateLimit', config } : undefined;
    },
  ],
  [
    typeUrlOf(RateLimitSchema),
    (ctx, name, any, path) => {
      const m = unpackTyped(ctx, any, RateLimitSchema, path);
      if (!m) return undefined;
      GLOBAL_RL_FIELDS.check(ctx, m, path);
      if (m.rateLimitService) RLS_FIELDS.check(ctx, m.rateLimitService, at(path, 'rate_limit_service'));
      try {
        return { name, kind: 'rateLimit', config: globalRateLimitFromProto(m, path) };
      } catch (e) {
        ctx.report('', errorMessage(e));
        return undefined;
      }
    },
  ],
]);

/** A LocalRateLimit, listener-level or per route (`perRoute` requires a token bucket). */
export function localRateLimit(
  ctx: DecodeContext,
  any: Any,
  path: string,
  perRoute: boolean,
): LocalRateLimitConfig | undefined {
  const m = unpackTyped(ctx, any, LocalRateLimitSchema, path);
  if (!m) return undefined;
  LOCAL_RL_FIELDS.check(ctx, m, path);
  try {
    return localRateLimitFromProto(m, { perRoute, where: path });
  } catch (e) {
    // The ratelimit room's messages already start with the path they were given.
    ctx.report('', errorMessage(e));
    return undefined;
  }
}

export function httpFilters(
  ctx: DecodeContext,
  list: readonly HttpFilter[],
  path: string,
): HttpFilterConfig[] {
  const out: HttpFilterConfig[] = [];
  list.forEach((f, i) => {
    const p = at(path, i);
    FILTER_FIELDS.check(ctx, f, p);
    if (f.disabled)
      ctx.report(
        at(p, 'disabled'),
        `filter "${f.name}": disabled filters (enabled per route) are not supported`,
      );
    const any = requireTyped(ctx, f.configType, p);
    if (!any) return;
    const type = effectiveTypeUrl(any);
    const decode = DECODERS.get(type);
    if (!decode) {
      // Envoy skips an unknown filter marked optional; anything else it cannot run is refused.
      if (!f.isOptional) ctx.report(p, `unsupported HTTP filter ${type} ("${f.name}")`);
      return;
    }
    const config = decode(ctx, f.name, any, at(p, 'typed_config'));
    if (config) out.push(config);
  });
  const routerAt = out.findIndex((f) => f.kind === 'router');
  if (routerAt === -1) {
    ctx.report(path, 'the HTTP filter chain must end with envoy.filters.http.router');
  } else if (routerAt !== out.length - 1) {
    ctx.report(path, `the router ("${out[routerAt]!.name}") must be the last HTTP filter`);
  }
  return out;
}
