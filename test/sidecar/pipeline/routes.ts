// Hand-built RouteTables for pipeline tests (stand-in for sidecar/config's decoders), with Envoy's domain matching.

import { compileHeaderMatcher } from '../../../src/sidecar/config/match/header-matcher.js';
import { compileRouteMatch } from '../../../src/sidecar/config/match/route.js';
import type {
  CorsConfig,
  FaultConfig,
  HeaderMatcher,
  HeaderMutation,
  HeaderOps,
  LocalRateLimitConfig,
  RateLimitPolicyEntry,
  RetryPolicyConfig,
  RouteActionConfig,
  RouteEntry,
  RouteMatch,
  RouteTable,
  VirtualHostConfig,
  WeightedClusterChoice,
} from '../../../src/sidecar/config/model.js';
import { NO_HEADER_OPS } from '../../../src/sidecar/config/model.js';
import { stringMatch } from '../../../src/sidecar/config/string-match.js';

export function ops(
  init: { add?: Record<string, string> | HeaderMutation[]; remove?: string[] } = {},
): HeaderOps {
  const add = Array.isArray(init.add)
    ? init.add
    : Object.entries(init.add ?? {}).map(([key, value]) => ({
        key,
        value,
        action: 'overwrite' as const,
        keepEmpty: false,
      }));
  return { add, remove: init.remove ?? [] };
}

export function exactHeader(name: string, value: string, invert = false): HeaderMatcher {
  return compileHeaderMatcher({
    name,
    kind: 'string',
    match: stringMatch('exact', value),
    invert,
    treatMissingAsEmpty: false,
  });
}

export function presentHeader(name: string, present = true): HeaderMatcher {
  return compileHeaderMatcher({ name, kind: 'present', present, invert: false, treatMissingAsEmpty: false });
}

export interface MatchInit {
  prefix?: string;
  exact?: string;
  regex?: string;
  headers?: HeaderMatcher[];
  grpc?: boolean;
  caseSensitive?: boolean;
}

export function match(init: MatchInit = {}): RouteMatch {
  let path: RouteMatch['path'];
  if (init.exact !== undefined) path = { kind: 'exact', value: init.exact };
  else if (init.regex !== undefined)
    path = { kind: 'regex', value: init.regex, regex: new RegExp(`^(?:${init.regex})$`) };
  else path = { kind: 'prefix', value: init.prefix ?? '/' };
  return {
    path,
    caseSensitive: init.caseSensitive ?? true,
    headers: init.headers ?? [],
    queryParameters: [],
    grpcOnly: init.grpc ?? false,
  };
}

export function retryPolicy(
  init: Partial<Omit<RetryPolicyConfig, 'retryOn'>> & { retryOn: string[] },
): RetryPolicyConfig {
  return {
    numRetries: 2,
    retriableStatusCodes: new Set(),
    previousHosts: false,
    hostSelectionRetryMaxAttempts: 1,
    backoffBaseMs: 25,
    backoffMaxMs: 250,
    retriableHeaders: [],
    ...init,
    retryOn: new Set(init.retryOn),
  };
}

export interface ActionInit {
  cluster?: string;
  clusters?: { name: string; weight: number; requestHeaders?: HeaderOps; responseHeaders?: HeaderOps }[];
  timeoutMs?: number;
  retry?: RetryPolicyConfig;
  mirrors?: { cluster: string; fraction: number }[];
  prefixRewrite?: string;
  regexRewrite?: { pattern: RegExp; substitution: string };
  hostRewrite?: string;
  websocket?: boolean;
  rateLimits?: RateLimitPolicyEntry[];
  hashPolicies?: RouteActionConfig['hashPolicies'];
}

export function action(init: ActionInit): RouteActionConfig {
  const clusters: WeightedClusterChoice[] = (
    init.clusters ?? [{ name: init.cluster ?? 'backend', weight: 1 }]
  ).map((c) => ({
    name: c.name,
    weight: c.weight,
    requestHeaders: c.requestHeaders ?? NO_HEADER_OPS,
    responseHeaders: c.responseHeaders ?? NO_HEADER_OPS,
  }));
  return {
    kind: 'route',
    clusters,
    totalWeight: clusters.reduce((n, c) => n + c.weight, 0),
    clusterNotFoundStatus: 503,
    priority: 'DEFAULT',
    timeoutMs: init.timeoutMs ?? 0,
    retry: init.retry,
    mirrors: init.mirrors ?? [],
    prefixRewrite: init.prefixRewrite,
    regexRewrite: init.regexRewrite,
    hostRewrite: init.hostRewrite,
    hashPolicies: init.hashPolicies ?? [],
    websocket: init.websocket ?? false,
    rateLimits: init.rateLimits ?? [],
  };
}

export interface RouteInit {
  name?: string;
  match?: MatchInit;
  action?: RouteEntry['action'];
  route?: ActionInit;
  requestHeaders?: HeaderOps;
  responseHeaders?: HeaderOps;
  fault?: FaultConfig;
  cors?: CorsConfig;
  localRateLimit?: LocalRateLimitConfig;
  configPath?: string;
  decoratorOperation?: string;
}

let routeCounter = 0;

export function route(init: RouteInit = {}): RouteEntry {
  const m = match(init.match);
  return {
    name: init.name ?? `route-${++routeCounter}`,
    match: m,
    matches: compileRouteMatch(m),
    action: init.action ?? action(init.route ?? {}),
    requestHeaders: init.requestHeaders ?? NO_HEADER_OPS,
    responseHeaders: init.responseHeaders ?? NO_HEADER_OPS,
    fault: init.fault,
    cors: init.cors,
    localRateLimit: init.localRateLimit,
    configPath: init.configPath,
    decoratorOperation: init.decoratorOperation,
  };
}

export interface VhostInit {
  name?: string;
  domains?: string[];
  routes: RouteEntry[];
  requestHeaders?: HeaderOps;
  responseHeaders?: HeaderOps;
  retry?: RetryPolicyConfig;
  includeAttemptCount?: boolean;
  cors?: CorsConfig;
  rateLimits?: RateLimitPolicyEntry[];
}

export function vhost(init: VhostInit): VirtualHostConfig {
  return {
    name: init.name ?? `${(init.domains ?? ['*'])[0]}`,
    domains: init.domains ?? ['*'],
    routes: init.routes,
    requestHeaders: init.requestHeaders ?? NO_HEADER_OPS,
    responseHeaders: init.responseHeaders ?? NO_HEADER_OPS,
    retry: init.retry,
    includeAttemptCount: init.includeAttemptCount ?? false,
    includeAttemptCountInResponse: false,
    cors: init.cors,
    rateLimits: init.rateLimits ?? [],
  };
}

/**
 * Envoy's virtual host selection: an exact domain first, then the longest `*.suffix` wildcard, then the
 * longest `prefix.*` wildcard, then `*`. The authority is tried as given, then without its port.
 */
function domainMatcher(
  vhosts: readonly VirtualHostConfig[],
): (authority: string) => VirtualHostConfig | undefined {
  const exact = new Map<string, VirtualHostConfig>();
  const suffixes: [string, VirtualHostConfig][] = [];
  const prefixes: [string, VirtualHostConfig][] = [];
  let any: VirtualHostConfig | undefined;
  for (const v of vhosts) {
    for (const d of v.domains.map((x) => x.toLowerCase())) {
      if (d === '*') any ??= v;
      else if (d.startsWith('*')) suffixes.push([d.slice(1), v]);
      else if (d.endsWith('*')) prefixes.push([d.slice(0, -1), v]);
      else if (!exact.has(d)) exact.set(d, v);
    }
  }
  suffixes.sort((a, b) => b[0].length - a[0].length);
  prefixes.sort((a, b) => b[0].length - a[0].length);
  const find = (host: string) =>
    exact.get(host) ??
    suffixes.find(([s]) => host.endsWith(s) && host.length > s.length)?.[1] ??
    prefixes.find(([p]) => host.startsWith(p) && host.length > p.length)?.[1];
  return (authority) => {
    const a = authority.toLowerCase();
    const found = find(a);
    if (found) return found;
    const colon = a.lastIndexOf(':');
    if (colon > 0 && !a.endsWith(']')) {
      const bare = find(a.slice(0, colon));
      if (bare) return bare;
    }
    return any;
  };
}

export function routeTable(init: {
  name?: string;
  virtualHosts: VirtualHostConfig[];
  requestHeaders?: HeaderOps;
  responseHeaders?: HeaderOps;
}): RouteTable {
  const find = domainMatcher(init.virtualHosts);
  return {
    name: init.name ?? '9080',
    virtualHosts: init.virtualHosts,
    requestHeaders: init.requestHeaders ?? NO_HEADER_OPS,
    responseHeaders: init.responseHeaders ?? NO_HEADER_OPS,
    findVirtualHost: find,
  };
}

/** One virtual host for every domain with the given routes: the common test shape. */
export function simpleTable(...routes: RouteEntry[]): RouteTable {
  return routeTable({ virtualHosts: [vhost({ routes })] });
}
