// envoy.filters.http.jwt_authn (JwtAuthentication) → JwtConfig: inline JWKS providers and Istio's one requirement shape.

import { RouteMatchSchema } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import {
  type JwtAuthentication,
  JwtAuthenticationSchema,
  JwtClaimToHeaderSchema,
  JwtHeaderSchema,
  type JwtProvider,
  JwtProviderSchema,
  type JwtRequirement,
  RequirementRuleSchema,
} from '../../../xds/gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import type { JwtConfig, JwtProviderConfig } from '../model.js';
import { fieldPolicy } from './fields.js';
import { at, type DecodeContext } from './problems.js';

const AUTHN_FIELDS = fieldPolicy(JwtAuthenticationSchema, { handled: ['providers', 'rules'] });
const PROVIDER_FIELDS = fieldPolicy(JwtProviderSchema, {
  handled: [
    'issuer',
    'audiences',
    'local_jwks',
    'forward',
    'from_headers',
    'from_params',
    'from_cookies',
    'forward_payload_header',
    'payload_in_metadata',
    'clock_skew_seconds',
    'claim_to_headers',
  ],
  // A cache of verified tokens: a performance setting with no effect on the outcome.
  ignored: ['jwt_cache_config'],
});
const HEADER_FIELDS = fieldPolicy(JwtHeaderSchema, { handled: ['name', 'value_prefix'] });
const CLAIM_FIELDS = fieldPolicy(JwtClaimToHeaderSchema, { handled: ['header_name', 'claim_name'] });
const RULE_FIELDS = fieldPolicy(RequirementRuleSchema, { handled: ['match', 'requires'] });
const RULE_MATCH_FIELDS = fieldPolicy(RouteMatchSchema, { handled: ['prefix'] });

const DEFAULT_CLOCK_SKEW_SECONDS = 60;

export function jwtConfig(ctx: DecodeContext, f: JwtAuthentication, path: string): JwtConfig {
  AUTHN_FIELDS.check(ctx, f, path);
  const names = Object.keys(f.providers);
  const providers = new Map<string, JwtProviderConfig>();
  for (const name of names) {
    const p = provider(ctx, name, f.providers[name]!, `${path}.providers["${name}"]`);
    if (p) providers.set(name, p);
  }
  const req = requirement(ctx, f, path);
  const selected: JwtProviderConfig[] = [];
  for (const name of req.providers) {
    const p = providers.get(name);
    if (p) selected.push(p);
    else if (!names.includes(name))
      ctx.report(at(path, 'rules[0].requires'), `requirement names unknown provider "${name}"`);
  }
  return { providers: selected, allowMissing: req.allowMissing };
}

/**
 * The model holds "any one of these providers, optionally none": exactly what Istio emits (one rule for
 * prefix "/" requiring any provider or allow_missing). Other shapes are refused rather than approximated.
 */
function requirement(
  ctx: DecodeContext,
  f: JwtAuthentication,
  path: string,
): { providers: string[]; allowMissing: boolean } {
  const none = { providers: [], allowMissing: true };
  if (f.rules.length !== 1) {
    ctx.report(at(path, 'rules'), `exactly one rule (prefix "/") is supported, got ${f.rules.length}`);
    return none;
  }
  const rule = f.rules[0]!;
  const rp = at(at(path, 'rules'), 0);
  RULE_FIELDS.check(ctx, rule, rp);
  if (rule.match) RULE_MATCH_FIELDS.check(ctx, rule.match, at(rp, 'match'));
  const prefix = rule.match?.pathSpecifier.case === 'prefix' ? rule.match.pathSpecifier.value : undefined;
  if (prefix !== '/')
    ctx.report(at(rp, 'match'), 'only a rule matching prefix "/" (every request) is supported');
  if (rule.requirementType.case !== 'requires') {
    ctx.report(rp, 'the rule needs `requires` (requirement_name is not supported)');
    return none;
  }
  const r = rule.requirementType.value;
  const providers: string[] = [];
  let allowMissing = false;
  const leaf = (x: JwtRequirement, p: string): void => {
    switch (x.requiresType.case) {
      case 'providerName':
        providers.push(x.requiresType.value);
        return;
      case 'allowMissing':
        allowMissing = true;
        return;
      default:
        ctx.report(
          p,
          `requirement ${x.requiresType.case ?? '(empty)'} is not supported; use provider_name or allow_missing inside requires_any`,
        );
    }
  };
  const reqPath = at(rp, 'requires');
  if (r.requiresType.case === 'requiresAny') {
    r.requiresType.value.requirements.forEach((x, i) => {
      leaf(x, at(at(reqPath, 'requires_any.requirements'), i));
    });
  } else {
    leaf(r, reqPath);
  }
  if (providers.length === 0 && !allowMissing) ctx.report(reqPath, 'the requirement names no provider');
  return { providers, allowMissing };
}

function provider(
  ctx: DecodeContext,
  name: string,
  p: JwtProvider,
  path: string,
): JwtProviderConfig | undefined {
  PROVIDER_FIELDS.check(ctx, p, path);
  if (!p.issuer) ctx.report(at(path, 'issuer'), 'issuer is required');
  const src = p.jwksSourceSpecifier;
  let jwks: string | undefined;
  if (src.case === 'localJwks') {
    const s = src.value.specifier;
    if (s.case === 'inlineString') jwks = s.value;
    else if (s.case === 'inlineBytes') jwks = Buffer.from(s.value).toString('utf8');
    else ctx.report(at(path, 'local_jwks'), 'only inline_string or inline_bytes JWKS are supported');
  } else if (src.case === 'remoteJwks') {
    ctx.report(
      at(path, 'remote_jwks'),
      'remote JWKS are not fetched by the sidecar; the control plane inlines them as local_jwks',
    );
  } else {
    ctx.report(path, 'local_jwks is required');
  }
  if (jwks !== undefined && !validJwks(jwks)) {
    ctx.report(at(path, 'local_jwks'), 'the JWKS is not a JSON object with a "keys" list');
    jwks = undefined;
  }
  p.fromHeaders.forEach((h, i) => {
    HEADER_FIELDS.check(ctx, h, at(at(path, 'from_headers'), i));
  });
  p.claimToHeaders.forEach((c, i) => {
    CLAIM_FIELDS.check(ctx, c, at(at(path, 'claim_to_headers'), i));
  });
  if (jwks === undefined) return undefined;
  return {
    name,
    issuer: p.issuer,
    audiences: [...p.audiences],
    jwks,
    forward: p.forward,
    fromHeaders: p.fromHeaders.map((h) => ({ name: h.name.toLowerCase(), valuePrefix: h.valuePrefix })),
    fromParams: [...p.fromParams],
    fromCookies: [...p.fromCookies],
    forwardPayloadHeader: p.forwardPayloadHeader,
    payloadInMetadata: p.payloadInMetadata,
    claimToHeaders: p.claimToHeaders.map((c) => ({
      headerName: c.headerName.toLowerCase(),
      claimName: c.claimName,
    })),
    clockSkewSeconds: p.clockSkewSeconds || DEFAULT_CLOCK_SKEW_SECONDS,
  };
}

function validJwks(text: string): boolean {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && Array.isArray((v as { keys?: unknown }).keys);
  } catch {
    return false;
  }
}
