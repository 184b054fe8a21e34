// CORS policies (the per-route CorsPolicy of envoy.filters.http.cors, and the legacy route/vhost `cors`) → CorsConfig.

import type { RuntimeFractionalPercent } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { CorsPolicy as LegacyCorsPolicy } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { CorsPolicySchema as LegacyCorsPolicySchema } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import {
  type CorsPolicy,
  CorsPolicySchema,
} from '../../../xds/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import type { CorsConfig, StringMatch } from '../model.js';
import { fraction } from './common.js';
import { fieldPolicy } from './fields.js';
import { stringMatcher } from './matchers.js';
import { at, type DecodeContext } from './problems.js';

const FIELDS = [
  'allow_origin_string_match',
  'allow_methods',
  'allow_headers',
  'expose_headers',
  'max_age',
  'allow_credentials',
  'forward_not_matching_preflights',
  'filter_enabled',
];
const POLICY_FIELDS = fieldPolicy(CorsPolicySchema, { handled: FIELDS });
const LEGACY_FIELDS = fieldPolicy(LegacyCorsPolicySchema, { handled: FIELDS });

export function corsConfig(ctx: DecodeContext, c: CorsPolicy | LegacyCorsPolicy, path: string): CorsConfig {
  if (c.$typeName === CorsPolicySchema.typeName) POLICY_FIELDS.check(ctx, c, path);
  else LEGACY_FIELDS.check(ctx, c as LegacyCorsPolicy, path);
  const enabled = 'filterEnabled' in c ? c.filterEnabled : undefined;
  const legacyEnabled =
    'enabledSpecifier' in c && c.enabledSpecifier.case === 'filterEnabled'
      ? c.enabledSpecifier.value
      : undefined;
  checkFullyEnabled(
    ctx,
    (enabled ?? legacyEnabled) as RuntimeFractionalPercent | undefined,
    at(path, 'filter_enabled'),
  );
  const allowOrigins: StringMatch[] = [];
  c.allowOriginStringMatch.forEach((m, i) => {
    const s = stringMatcher(ctx, m, at(at(path, 'allow_origin_string_match'), i));
    if (s) allowOrigins.push(s);
  });
  return {
    allowOrigins,
    allowMethods: c.allowMethods,
    allowHeaders: c.allowHeaders,
    exposeHeaders: c.exposeHeaders,
    maxAge: c.maxAge,
    allowCredentials: c.allowCredentials ?? false,
    forwardNotMatchingPreflights: c.forwardNotMatchingPreflights ?? true,
  };
}

/** A CORS policy enabled for only part of the traffic is a runtime experiment Trellis does not run. */
function checkFullyEnabled(ctx: DecodeContext, p: RuntimeFractionalPercent | undefined, path: string): void {
  if (!p) return;
  if (fraction(ctx, p.defaultValue, at(path, 'default_value'), 1) < 1) {
    ctx.report(
      path,
      'a CORS policy enabled for a fraction of requests is not supported; enable it fully or remove it',
    );
  }
}
