// RouteConfiguration → RouteTable: virtual hosts with unique domains, routes with compiled matches and actions.

import type { JsonValue } from '@bufbuild/protobuf';
import {
  DecoratorSchema,
  type Route,
  RouteMatch_GrpcRouteMatchOptionsSchema,
  type RouteMatch as RouteMatchProto,
  RouteMatchSchema,
  RouteSchema,
  type VirtualHost,
  VirtualHost_TlsRequirementType,
  VirtualHostSchema,
} from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import {
  type RouteConfiguration,
  RouteConfigurationSchema,
} from '../../../xds/gen/envoy/config/route/v3/route_pb.js';
import { asciiLower } from '../ascii.js';
import { compileRouteMatch } from '../match/route.js';
import { CompiledRouteTable } from '../match/virtual-host.js';
import type {
  QueryParameterMatcher,
  RetryPolicyConfig,
  RouteEntry,
  RouteMatch,
  RouteTable,
  VirtualHostConfig,
} from '../model.js';
import { headerOps, REQUEST_HEADER_FIELDS, RESPONSE_HEADER_FIELDS } from './common.js';
import { corsConfig } from './cors.js';
import { fieldPolicy } from './fields.js';
import { headerMatchers, queryParameterMatcher, regex } from './matchers.js';
import { type PerFilterConfigs, perFilterConfigs } from './per-filter.js';
import { at, type DecodeContext } from './problems.js';
import { retryPolicy } from './retry.js';
import { directResponse, rateLimits, redirect, routeAction } from './route-action.js';

const CONFIG_FIELDS = fieldPolicy(RouteConfigurationSchema, {
  handled: [
    'name',
    'virtual_hosts',
    'request_headers_to_add',
    'request_headers_to_remove',
    'response_headers_to_add',
    'response_headers_to_remove',
    'max_direct_response_body_size_bytes',
    'ignore_port_in_host_matching',
    'typed_per_filter_config',
  ],
  // validate_clusters only changes when Envoy checks cluster names (the router answers 503 NC either way).
  ignored: ['validate_clusters', 'metadata'],
});
const VHOST_FIELDS = fieldPolicy(VirtualHostSchema, {
  handled: [
    'name',
    'domains',
    'routes',
    'require_tls',
    'rate_limits',
    'request_headers_to_add',
    'request_headers_to_remove',
    'response_headers_to_add',
    'response_headers_to_remove',
    'cors',
    'typed_per_filter_config',
    'include_request_attempt_count',
    'include_attempt_count_in_response',
    'retry_policy',
  ],
  // Virtual clusters only name stats; the buffer limit bounds what retries may replay.
  ignored: ['virtual_clusters', 'per_request_buffer_limit_bytes', 'metadata'],
});
const ROUTE_FIELDS = fieldPolicy(RouteSchema, {
  handled: [
    'name',
    'match',
    'route',
    'redirect',
    'direct_response',
    'metadata',
    'decorator',
    'typed_per_filter_config',
    'request_headers_to_add',
    'request_headers_to_remove',
    'response_headers_to_add',
    'response_headers_to_remove',
  ],
  ignored: ['per_request_buffer_limit_bytes', 'stat_prefix'],
});
const MATCH_FIELDS = fieldPolicy(RouteMatchSchema, {
  handled: [
    'prefix',
    'path',
    'safe_regex',
    'path_separated_prefix',
    'case_sensitive',
    'headers',
    'query_parameters',
    'grpc',
  ],
});
const GRPC_MATCH_FIELDS = fieldPolicy(RouteMatch_GrpcRouteMatchOptionsSchema, { handled: [] });
const DECORATOR_FIELDS = fieldPolicy(DecoratorSchema, { handled: ['operation'], ignored: ['propagate'] });

/** Envoy's default cap on a direct response body. */
const DEFAULT_MAX_DIRECT_BODY = 4096;

export function routeTable(ctx: DecodeContext, rc: RouteConfiguration, path: string): RouteTable {
  CONFIG_FIELDS.check(ctx, rc, path);
  if (!rc.name) ctx.report(at(path, 'name'), 'name is required');
  const maxBody = rc.maxDirectResponseBodySizeBytes ?? DEFAULT_MAX_DIRECT_BODY;
  const global = perFilterConfigs(ctx, rc.typedPerFilterConfig, at(path, 'typed_per_filter_config'));
  const seen = new Map<string, string>();
  const virtualHosts = rc.virtualHosts.map((vh, i) =>
    virtualHost(ctx, vh, at(at(path, 'virtual_hosts'), i), { maxBody, global, seen }),
  );
  return new CompiledRouteTable({
    name: rc.name,
    virtualHosts,
    requestHeaders: headerOps(
      ctx,
      rc.requestHeadersToAdd,
      rc.requestHeadersToRemove,
      path,
      REQUEST_HEADER_FIELDS,
    ),
    responseHeaders: headerOps(
      ctx,
      rc.responseHeadersToAdd,
      rc.responseHeadersToRemove,
      path,
      RESPONSE_HEADER_FIELDS,
    ),
    ignorePortInHostMatching: rc.ignorePortInHostMatching,
  });
}

interface TableScope {
  maxBody: number;
  global: PerFilterConfigs;
  /** Domain (lower-case) → the virtual host that claimed it first. */
  seen: Map<string, string>;
}

function virtualHost(
  ctx: DecodeContext,
  vh: VirtualHost,
  path: string,
  scope: TableScope,
): VirtualHostConfig {
  VHOST_FIELDS.check(ctx, vh, path);
  if (vh.domains.length === 0) ctx.report(at(path, 'domains'), 'at least one domain is required');
  vh.domains.forEach((d, i) => {
    const domain = asciiLower(d);
    const dp = at(at(path, 'domains'), i);
    if (domain === '') ctx.report(dp, 'a domain must not be empty');
    else if (domain !== '*' && domain.slice(1, -1).includes('*')) {
      ctx.report(dp, `"${d}": a wildcard may only be the first or last character`);
    } else if (domain !== '*' && domain.startsWith('*') && domain.endsWith('*')) {
      ctx.report(dp, `"${d}": a domain cannot be both a prefix and a suffix wildcard`);
    }
    const owner = scope.seen.get(domain);
    if (owner !== undefined) {
      ctx.report(
        dp,
        `only unique values for domains are permitted: "${d}" is also a domain of virtual host "${owner}"`,
      );
    } else scope.seen.set(domain, vh.name);
  });
  if (vh.requireTls !== VirtualHost_TlsRequirementType.NONE) {
    ctx.report(at(path, 'require_tls'), 'require_tls (redirect plaintext to HTTPS) is not supported');
  }
  const own = perFilterConfigs(ctx, vh.typedPerFilterConfig, at(path, 'typed_per_filter_config'));
  const legacyCors = vh.cors ? corsConfig(ctx, vh.cors, at(path, 'cors')) : undefined;
  const inherited: PerFilterConfigs = {
    ...scope.global,
    ...(legacyCors ? { cors: legacyCors } : {}),
    ...own,
  };
  const retry = vh.retryPolicy ? retryPolicy(ctx, vh.retryPolicy, at(path, 'retry_policy')) : undefined;
  const routes = vh.routes.map((r, i) =>
    route(ctx, r, at(at(path, 'routes'), i), { scope, inherited, retry }),
  );
  const out: VirtualHostConfig = {
    name: vh.name,
    domains: [...vh.domains],
    routes,
    requestHeaders: headerOps(
      ctx,
      vh.requestHeadersToAdd,
      vh.requestHeadersToRemove,
      path,
      REQUEST_HEADER_FIELDS,
    ),
    responseHeaders: headerOps(
      ctx,
      vh.responseHeadersToAdd,
      vh.responseHeadersToRemove,
      path,
      RESPONSE_HEADER_FIELDS,
    ),
    includeAttemptCount: vh.includeRequestAttemptCount,
    includeAttemptCountInResponse: vh.includeAttemptCountInResponse,
    rateLimits: rateLimits(ctx, vh.rateLimits, path),
  };
  if (retry) out.retry = retry;
  if (inherited.cors) out.cors = inherited.cors;
  return out;
}

function route(
  ctx: DecodeContext,
  r: Route,
  path: string,
  env: { scope: TableScope; inherited: PerFilterConfigs; retry?: RetryPolicyConfig },
): RouteEntry {
  ROUTE_FIELDS.check(ctx, r, path);
  const match = routeMatch(ctx, r.match, at(path, 'match'));
  let action: RouteEntry['action'];
  let legacyCors: PerFilterConfigs['cors'];
  switch (r.action.case) {
    case 'route':
      action = routeAction(ctx, r.action.value, at(path, 'route'), env.retry ? { retry: env.retry } : {});
      if (r.action.value.cors) legacyCors = corsConfig(ctx, r.action.value.cors, at(path, 'route.cors'));
      break;
    case 'redirect':
      action = redirect(ctx, r.action.value, at(path, 'redirect'));
      break;
    case 'directResponse':
      action = directResponse(ctx, r.action.value, at(path, 'direct_response'), env.scope.maxBody);
      break;
    default:
      ctx.report(
        path,
        r.action.case
          ? `${r.action.case} actions are not supported`
          : 'a route needs route, redirect or direct_response',
      );
      action = { kind: 'directResponse', status: 500 };
  }
  const own = perFilterConfigs(ctx, r.typedPerFilterConfig, at(path, 'typed_per_filter_config'));
  const effective: PerFilterConfigs = {
    ...env.inherited,
    ...(legacyCors ? { cors: legacyCors } : {}),
    ...own,
  };
  if (r.decorator) DECORATOR_FIELDS.check(ctx, r.decorator, at(path, 'decorator'));
  const out: RouteEntry = {
    name: r.name,
    match,
    matches: compileRouteMatch(match),
    action,
    requestHeaders: headerOps(
      ctx,
      r.requestHeadersToAdd,
      r.requestHeadersToRemove,
      path,
      REQUEST_HEADER_FIELDS,
    ),
    responseHeaders: headerOps(
      ctx,
      r.responseHeadersToAdd,
      r.responseHeadersToRemove,
      path,
      RESPONSE_HEADER_FIELDS,
    ),
  };
  if (r.decorator?.operation) out.decoratorOperation = r.decorator.operation;
  if (effective.fault) out.fault = effective.fault;
  if (effective.cors) out.cors = effective.cors;
  if (effective.localRateLimit) out.localRateLimit = effective.localRateLimit;
  const configPath = istioConfig(r.metadata?.filterMetadata.istio?.config);
  if (configPath) out.configPath = configPath;
  return out;
}

function istioConfig(v: JsonValue | undefined): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

function routeMatch(ctx: DecodeContext, m: RouteMatchProto | undefined, path: string): RouteMatch {
  const fallback: RouteMatch = {
    path: { kind: 'prefix', value: '/' },
    caseSensitive: true,
    headers: [],
    queryParameters: [],
    grpcOnly: false,
  };
  if (!m) {
    ctx.report(path, 'match is required');
    return { ...fallback, path: { kind: 'exact', value: '\0never' } };
  }
  MATCH_FIELDS.check(ctx, m, path);
  if (m.grpc) GRPC_MATCH_FIELDS.check(ctx, m.grpc, at(path, 'grpc'));
  const spec = m.pathSpecifier;
  let p: RouteMatch['path'] = fallback.path;
  switch (spec.case) {
    case 'prefix':
      p = { kind: 'prefix', value: spec.value };
      break;
    case 'path':
      p = { kind: 'exact', value: spec.value };
      break;
    case 'pathSeparatedPrefix':
      // Envoy's validation rule for the field.
      if (!/^[^?#]+[^?#/]$/.test(spec.value)) {
        ctx.report(
          at(path, 'path_separated_prefix'),
          `"${spec.value}" must not end with "/" nor contain "?" or "#"`,
        );
      }
      p = { kind: 'separatedPrefix', value: spec.value };
      break;
    case 'safeRegex': {
      const re = regex(ctx, spec.value.regex, at(path, 'safe_regex.regex'));
      p = re ? { kind: 'regex', value: spec.value.regex, regex: re } : { kind: 'exact', value: '\0never' };
      break;
    }
    case undefined:
      ctx.report(path, 'a path specifier (prefix, path, safe_regex or path_separated_prefix) is required');
      break;
    default:
      ctx.report(path, `${spec.case} path matching is not supported`);
  }
  const queryParameters: QueryParameterMatcher[] = [];
  m.queryParameters.forEach((q, i) => {
    const c = queryParameterMatcher(ctx, q, at(at(path, 'query_parameters'), i));
    if (c) queryParameters.push(c);
  });
  return {
    path: p,
    caseSensitive: m.caseSensitive ?? true,
    headers: headerMatchers(ctx, m.headers, at(path, 'headers')),
    queryParameters,
    grpcOnly: m.grpc !== undefined,
  };
}
