// A route's action: forwarding (clusters, weights, timeouts, retries, rewrites, hashing, mirrors), redirect or direct response.

import { errorMessage } from '../../../shared/errors.js';
import { RoutingPriority } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import {
  type DirectResponseAction,
  DirectResponseActionSchema,
  type RedirectAction,
  RedirectAction_RedirectResponseCode,
  RedirectActionSchema,
  type RouteAction,
  RouteAction_ClusterNotFoundResponseCode,
  type RouteAction_HashPolicy,
  RouteAction_HashPolicy_CookieSchema,
  RouteAction_HashPolicy_HeaderSchema,
  RouteAction_HashPolicySchema,
  RouteAction_MaxStreamDurationSchema,
  RouteAction_RequestMirrorPolicySchema,
  RouteAction_UpgradeConfigSchema,
  RouteActionSchema,
  WeightedCluster_ClusterWeightSchema,
  WeightedClusterSchema,
} from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { RegexMatchAndSubstitute } from '../../../xds/gen/envoy/type/matcher/v3/regex_pb.js';
import { rateLimitPolicyFromProto } from '../../ratelimit/descriptors.js';
import type {
  DirectResponseConfig,
  HashPolicy,
  RateLimitPolicyEntry,
  RedirectConfig,
  RetryPolicyConfig,
  RouteActionConfig,
  WeightedClusterChoice,
} from '../model.js';
import { NO_HEADER_OPS } from '../model.js';
import {
  fraction,
  headerOps,
  nonNegativeMs,
  REQUEST_HEADER_FIELDS,
  RESPONSE_HEADER_FIELDS,
} from './common.js';
import { fieldPolicy } from './fields.js';
import { regex } from './matchers.js';
import { at, type DecodeContext } from './problems.js';
import { retryPolicy } from './retry.js';

const ACTION_FIELDS = fieldPolicy(RouteActionSchema, {
  handled: [
    'cluster',
    'weighted_clusters',
    'cluster_not_found_response_code',
    'prefix_rewrite',
    'regex_rewrite',
    'host_rewrite_literal',
    'timeout',
    'idle_timeout',
    'retry_policy',
    'request_mirror_policies',
    'priority',
    'rate_limits',
    'hash_policy',
    'cors',
    'upgrade_configs',
    'max_stream_duration',
  ],
});
const WEIGHTED_FIELDS = fieldPolicy(WeightedClusterSchema, {
  handled: ['clusters', 'total_weight'],
  ignored: ['runtime_key_prefix'],
});
const CLUSTER_WEIGHT_FIELDS = fieldPolicy(WeightedCluster_ClusterWeightSchema, {
  handled: [
    'name',
    'weight',
    'request_headers_to_add',
    'request_headers_to_remove',
    'response_headers_to_add',
    'response_headers_to_remove',
    'host_rewrite_literal',
  ],
});
const HASH_FIELDS = fieldPolicy(RouteAction_HashPolicySchema, {
  handled: ['header', 'cookie', 'connection_properties', 'query_parameter', 'terminal'],
});
const HASH_HEADER_FIELDS = fieldPolicy(RouteAction_HashPolicy_HeaderSchema, { handled: ['header_name'] });
const HASH_COOKIE_FIELDS = fieldPolicy(RouteAction_HashPolicy_CookieSchema, {
  handled: ['name', 'ttl', 'path'],
});
const MIRROR_FIELDS = fieldPolicy(RouteAction_RequestMirrorPolicySchema, {
  handled: ['cluster', 'runtime_fraction'],
  ignored: ['trace_sampled'],
});
const UPGRADE_FIELDS = fieldPolicy(RouteAction_UpgradeConfigSchema, { handled: ['upgrade_type', 'enabled'] });
const MAX_STREAM_FIELDS = fieldPolicy(RouteAction_MaxStreamDurationSchema, {
  handled: ['max_stream_duration', 'grpc_timeout_header_max'],
});
const REDIRECT_FIELDS = fieldPolicy(RedirectActionSchema, {
  handled: [
    'https_redirect',
    'scheme_redirect',
    'host_redirect',
    'port_redirect',
    'path_redirect',
    'prefix_rewrite',
    'regex_rewrite',
    'response_code',
    'strip_query',
  ],
});
const DIRECT_FIELDS = fieldPolicy(DirectResponseActionSchema, { handled: ['status', 'body'] });

/** Envoy's route timeout when none is configured. */
const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;
const MAX_UINT32 = 4294967295;

const NOT_FOUND_STATUS: Record<number, number> = {
  [RouteAction_ClusterNotFoundResponseCode.SERVICE_UNAVAILABLE]: 503,
  [RouteAction_ClusterNotFoundResponseCode.NOT_FOUND]: 404,
  [RouteAction_ClusterNotFoundResponseCode.INTERNAL_SERVER_ERROR]: 500,
};

const REDIRECT_STATUS: Record<number, number> = {
  [RedirectAction_RedirectResponseCode.MOVED_PERMANENTLY]: 301,
  [RedirectAction_RedirectResponseCode.FOUND]: 302,
  [RedirectAction_RedirectResponseCode.SEE_OTHER]: 303,
  [RedirectAction_RedirectResponseCode.TEMPORARY_REDIRECT]: 307,
  [RedirectAction_RedirectResponseCode.PERMANENT_REDIRECT]: 308,
};

export function routeAction(
  ctx: DecodeContext,
  a: RouteAction,
  path: string,
  inherited: { retry?: RetryPolicyConfig },
): RouteActionConfig {
  ACTION_FIELDS.check(ctx, a, path);
  const clusters = clusterChoices(ctx, a, path);
  const totalWeight = clusters.reduce((s, c) => s + c.weight, 0);
  const out: RouteActionConfig = {
    kind: 'route',
    clusters,
    totalWeight,
    clusterNotFoundStatus: NOT_FOUND_STATUS[a.clusterNotFoundResponseCode] ?? 503,
    timeoutMs: nonNegativeMs(ctx, a.timeout, at(path, 'timeout'), DEFAULT_ROUTE_TIMEOUT_MS),
    mirrors: mirrors(ctx, a, path),
    hashPolicies: hashPolicies(ctx, a.hashPolicy, at(path, 'hash_policy')),
    websocket: websocket(ctx, a, path),
    rateLimits: rateLimits(ctx, a.rateLimits, path),
    priority: a.priority === RoutingPriority.HIGH ? 'HIGH' : 'DEFAULT',
  };
  if (a.idleTimeout) out.idleTimeoutMs = nonNegativeMs(ctx, a.idleTimeout, at(path, 'idle_timeout'), 0);
  const retry = a.retryPolicy ? retryPolicy(ctx, a.retryPolicy, at(path, 'retry_policy')) : inherited.retry;
  if (retry) out.retry = retry;
  if (a.prefixRewrite) out.prefixRewrite = a.prefixRewrite;
  if (a.regexRewrite) {
    const rr = regexRewrite(ctx, a.regexRewrite, at(path, 'regex_rewrite'));
    if (rr) out.regexRewrite = rr;
  }
  if (a.prefixRewrite && a.regexRewrite) ctx.report(path, 'prefix_rewrite and regex_rewrite are exclusive');
  if (a.hostRewriteSpecifier.case === 'hostRewriteLiteral') out.hostRewrite = a.hostRewriteSpecifier.value;
  if (a.maxStreamDuration) {
    const p = at(path, 'max_stream_duration');
    MAX_STREAM_FIELDS.check(ctx, a.maxStreamDuration, p);
    const msd = a.maxStreamDuration;
    if (msd.maxStreamDuration) {
      const v = nonNegativeMs(ctx, msd.maxStreamDuration, at(p, 'max_stream_duration'), 0);
      if (v > 0) out.maxStreamDurationMs = v;
    }
    if (msd.grpcTimeoutHeaderMax)
      out.grpcTimeoutHeaderMaxMs = nonNegativeMs(
        ctx,
        msd.grpcTimeoutHeaderMax,
        at(p, 'grpc_timeout_header_max'),
        0,
      );
  }
  return out;
}

function clusterChoices(ctx: DecodeContext, a: RouteAction, path: string): WeightedClusterChoice[] {
  const spec = a.clusterSpecifier;
  if (spec.case === 'cluster') {
    if (!spec.value) ctx.report(at(path, 'cluster'), 'cluster name must not be empty');
    return [{ name: spec.value, weight: 1, requestHeaders: NO_HEADER_OPS, responseHeaders: NO_HEADER_OPS }];
  }
  if (spec.case !== 'weightedClusters') {
    // Other specifiers (cluster_header, plugins) are refused by name by the field policy.
    if (spec.case === undefined) ctx.report(path, 'a route needs cluster or weighted_clusters');
    return [];
  }
  const p = at(path, 'weighted_clusters');
  const wc = spec.value;
  WEIGHTED_FIELDS.check(ctx, wc, p);
  if (wc.clusters.length === 0) ctx.report(at(p, 'clusters'), 'at least one cluster is required');
  const out: WeightedClusterChoice[] = [];
  wc.clusters.forEach((c, i) => {
    const cp = at(at(p, 'clusters'), i);
    CLUSTER_WEIGHT_FIELDS.check(ctx, c, cp);
    if (!c.name) ctx.report(at(cp, 'name'), 'cluster name must not be empty');
    const choice: WeightedClusterChoice = {
      name: c.name,
      weight: c.weight ?? 0,
      requestHeaders: headerOps(
        ctx,
        c.requestHeadersToAdd,
        c.requestHeadersToRemove,
        cp,
        REQUEST_HEADER_FIELDS,
      ),
      responseHeaders: headerOps(
        ctx,
        c.responseHeadersToAdd,
        c.responseHeadersToRemove,
        cp,
        RESPONSE_HEADER_FIELDS,
      ),
    };
    if (c.hostRewriteSpecifier.case === 'hostRewriteLiteral')
      choice.hostRewrite = c.hostRewriteSpecifier.value;
    out.push(choice);
  });
  const sum = out.reduce((s, c) => s + c.weight, 0);
  if (wc.clusters.length > 0 && sum === 0)
    ctx.report(at(p, 'clusters'), 'the sum of the weights must be greater than 0');
  if (sum > MAX_UINT32)
    ctx.report(at(p, 'clusters'), `the sum of the weights (${sum}) exceeds ${MAX_UINT32}`);
  if (wc.totalWeight !== undefined && wc.totalWeight !== sum) {
    ctx.report(
      at(p, 'total_weight'),
      `total_weight ${wc.totalWeight} does not equal the sum of the weights (${sum})`,
    );
  }
  return out;
}

function mirrors(ctx: DecodeContext, a: RouteAction, path: string): { cluster: string; fraction: number }[] {
  return a.requestMirrorPolicies.flatMap((m, i) => {
    const p = at(at(path, 'request_mirror_policies'), i);
    MIRROR_FIELDS.check(ctx, m, p);
    if (!m.cluster) {
      ctx.report(at(p, 'cluster'), 'cluster is required');
      return [];
    }
    return [
      {
        cluster: m.cluster,
        fraction: fraction(ctx, m.runtimeFraction?.defaultValue, at(p, 'runtime_fraction.default_value'), 1),
      },
    ];
  });
}

function hashPolicies(
  ctx: DecodeContext,
  list: readonly RouteAction_HashPolicy[],
  path: string,
): HashPolicy[] {
  const out: HashPolicy[] = [];
  list.forEach((h, i) => {
    const p = at(path, i);
    HASH_FIELDS.check(ctx, h, p);
    const s = h.policySpecifier;
    switch (s.case) {
      case 'header':
        HASH_HEADER_FIELDS.check(ctx, s.value, at(p, 'header'));
        if (!s.value.headerName) ctx.report(at(p, 'header.header_name'), 'header_name is required');
        out.push({ kind: 'header', name: s.value.headerName.toLowerCase(), terminal: h.terminal });
        break;
      case 'cookie': {
        HASH_COOKIE_FIELDS.check(ctx, s.value, at(p, 'cookie'));
        if (!s.value.name) ctx.report(at(p, 'cookie.name'), 'name is required');
        const policy: HashPolicy = { kind: 'cookie', name: s.value.name, terminal: h.terminal };
        if (s.value.ttl) policy.cookieTtlMs = nonNegativeMs(ctx, s.value.ttl, at(p, 'cookie.ttl'), 0);
        if (s.value.path) policy.cookiePath = s.value.path;
        out.push(policy);
        break;
      }
      case 'connectionProperties':
        if (s.value.sourceIp) out.push({ kind: 'sourceIp', name: '', terminal: h.terminal });
        else
          ctx.report(
            at(p, 'connection_properties.source_ip'),
            'connection_properties hashes nothing without source_ip',
          );
        break;
      case 'queryParameter':
        if (!s.value.name) ctx.report(at(p, 'query_parameter.name'), 'name is required');
        out.push({ kind: 'queryParameter', name: s.value.name, terminal: h.terminal });
        break;
      case undefined:
        ctx.report(p, 'a hash policy needs a specifier');
        break;
      default:
        ctx.report(
          at(p, 'filter_state'),
          'filter_state hash policies are not supported by the Trellis sidecar',
        );
    }
  });
  return out;
}

function websocket(ctx: DecodeContext, a: RouteAction, path: string): boolean {
  let on = false;
  a.upgradeConfigs.forEach((u, i) => {
    const p = at(at(path, 'upgrade_configs'), i);
    UPGRADE_FIELDS.check(ctx, u, p);
    if (u.upgradeType.toLowerCase() !== 'websocket') {
      ctx.report(at(p, 'upgrade_type'), `upgrade type "${u.upgradeType}" is not supported (only websocket)`);
      return;
    }
    on = u.enabled ?? true;
  });
  return on;
}

export function rateLimits(
  ctx: DecodeContext,
  list: Parameters<typeof rateLimitPolicyFromProto>[0],
  path: string,
): RateLimitPolicyEntry[] {
  if (list.length === 0) return [];
  try {
    return rateLimitPolicyFromProto(list, path);
  } catch (e) {
    ctx.report('', errorMessage(e));
    return [];
  }
}

/** RE2's `\1` back-references in JavaScript's `$1` form; a literal `$` doubled. */
function substitution(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      const n = s[i + 1]!;
      out += n >= '0' && n <= '9' ? (n === '0' ? '$&' : `$${n}`) : n;
      i++;
    } else out += c === '$' ? '$$' : c;
  }
  return out;
}

export function regexRewrite(
  ctx: DecodeContext,
  r: RegexMatchAndSubstitute,
  path: string,
): { pattern: RegExp; substitution: string } | undefined {
  if (!r.pattern) {
    ctx.report(at(path, 'pattern'), 'pattern is required');
    return undefined;
  }
  const pattern = regex(ctx, r.pattern.regex, at(path, 'pattern.regex'), { global: true });
  return pattern ? { pattern, substitution: substitution(r.substitution) } : undefined;
}

export function redirect(ctx: DecodeContext, r: RedirectAction, path: string): RedirectConfig {
  REDIRECT_FIELDS.check(ctx, r, path);
  const out: RedirectConfig = {
    kind: 'redirect',
    status: REDIRECT_STATUS[r.responseCode] ?? 301,
    stripQuery: r.stripQuery,
  };
  const scheme = r.schemeRewriteSpecifier;
  if (scheme.case === 'httpsRedirect' && scheme.value) out.scheme = 'https';
  else if (scheme.case === 'schemeRedirect' && scheme.value) out.scheme = scheme.value.toLowerCase();
  if (r.hostRedirect) out.host = r.hostRedirect;
  if (r.portRedirect) out.port = r.portRedirect;
  const p = r.pathRewriteSpecifier;
  if (p.case === 'pathRedirect') out.path = p.value;
  else if (p.case === 'prefixRewrite') out.prefixRewrite = p.value;
  else if (p.case === 'regexRewrite') {
    const rr = regexRewrite(ctx, p.value, at(path, 'regex_rewrite'));
    if (rr) out.regexRewrite = rr;
  }
  return out;
}

export function directResponse(
  ctx: DecodeContext,
  d: DirectResponseAction,
  path: string,
  maxBodyBytes: number,
): DirectResponseConfig {
  DIRECT_FIELDS.check(ctx, d, path);
  if (d.status < 200 || d.status > 599) ctx.report(at(path, 'status'), `must be 200-599, got ${d.status}`);
  const out: DirectResponseConfig = { kind: 'directResponse', status: d.status };
  const s = d.body?.specifier;
  if (s?.case === 'inlineString') out.body = Buffer.from(s.value, 'utf8');
  else if (s?.case === 'inlineBytes') out.body = Buffer.from(s.value);
  else if (s?.case)
    ctx.report(at(path, 'body'), `only inline_string or inline_bytes bodies are supported, got ${s.case}`);
  if (out.body && out.body.length > maxBodyBytes) {
    ctx.report(
      at(path, 'body'),
      `response body size is ${out.body.length} bytes; maximum is ${maxBodyBytes}`,
    );
  }
  return out;
}
