// One VirtualService HTTPRoute → Envoy routes (one per match block): matches, actions, retries, faults, mirrors.

import type {
  CorsPolicy,
  Destination,
  HeaderOperations,
  HTTPFaultInjection,
  HTTPMatchRequest,
  HTTPRetry,
  HTTPRoute,
  StringMatch,
  VirtualService,
} from '../../api/types/index.js';
import { parseDuration } from '../../shared/duration.js';
import { HeaderValueOption_HeaderAppendAction } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import {
  RedirectAction_RedirectResponseCode,
  type RouteActionSchema,
  type RouteSchema,
} from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { CorsPolicySchema } from '../../xds/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { HTTPFaultSchema } from '../../xds/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { PreviousHostsPredicateSchema } from '../../xds/gen/envoy/extensions/retry/host/previous_hosts/v3/previous_hosts_pb.js';
import { configPath, namespaceOf } from '../index/config-index.js';
import { resolveHost } from '../index/hosts.js';
import { selectorMatches } from '../index/labels.js';
import type { MeshIndex } from '../index/mesh-index.js';
import { destinationRuleFor } from './clusters.js';
import { duration, fractionalPercent, type Init, ms, outboundClusterName, typed } from './envoy.js';
import type { ProxyScope } from './scope.js';

export type RouteInit = Init<typeof RouteSchema>;
type RouteActionInit = Init<typeof RouteActionSchema>;

export const FAULT_FILTER = 'envoy.filters.http.fault';
export const CORS_FILTER = 'envoy.filters.http.cors';

/** Where the routes are generated: the listener port, the gateway (if any) and the proxy asking. */
export interface RouteContext {
  index: MeshIndex;
  scope: ProxyScope;
  /** Route config port (sidecar outbound) or gateway server port; 0 for the host-mode HTTP proxy (any port). */
  port: number;
  /** `mesh` for sidecars, `ns/name` of the Gateway for gateways. */
  gateway: string;
  /** For messages and the decorator: the host the vhost serves. */
  vhostName: string;
}

export function stringMatcher(sm: StringMatch, ignoreCase = false) {
  if ('exact' in sm) return { matchPattern: { case: 'exact' as const, value: sm.exact }, ignoreCase };
  if ('prefix' in sm) return { matchPattern: { case: 'prefix' as const, value: sm.prefix }, ignoreCase };
  return { matchPattern: { case: 'safeRegex' as const, value: { regex: sm.regex } }, ignoreCase };
}

function isPresenceOnly(sm: object): boolean {
  return Object.keys(sm).length === 0;
}

function headerMatcher(name: string, sm: StringMatch | Record<string, never>, invert = false) {
  if (isPresenceOnly(sm))
    return {
      name,
      headerMatchSpecifier: { case: 'presentMatch' as const, value: true },
      invertMatch: invert,
    };
  // withoutHeaders must match a request that lacks the header: a missing header reads as empty (Envoy).
  return {
    name,
    headerMatchSpecifier: { case: 'stringMatch' as const, value: stringMatcher(sm as StringMatch) },
    invertMatch: invert,
    treatMissingHeaderAsEmpty: invert,
  };
}

export function routeMatch(m: HTTPMatchRequest | undefined): NonNullable<RouteInit['match']> {
  const headers: ReturnType<typeof headerMatcher>[] = [];
  let pathSpecifier: NonNullable<RouteInit['match']>['pathSpecifier'] = { case: 'prefix', value: '/' };
  const uri = m?.uri;
  if (uri) {
    if ('exact' in uri) pathSpecifier = { case: 'path', value: uri.exact };
    else if ('prefix' in uri) pathSpecifier = { case: 'prefix', value: uri.prefix };
    else pathSpecifier = { case: 'safeRegex', value: { regex: uri.regex } };
  }
  if (m?.scheme) headers.push(headerMatcher(':scheme', m.scheme));
  if (m?.method) headers.push(headerMatcher(':method', m.method));
  if (m?.authority) headers.push(headerMatcher(':authority', m.authority));
  for (const [name, sm] of Object.entries(m?.headers ?? {})) headers.push(headerMatcher(name, sm));
  for (const [name, sm] of Object.entries(m?.withoutHeaders ?? {}))
    headers.push(headerMatcher(name, sm, true));
  const queryParameters = Object.entries(m?.queryParams ?? {}).map(([name, sm]) =>
    isPresenceOnly(sm)
      ? { name, queryParameterMatchSpecifier: { case: 'presentMatch' as const, value: true } }
      : {
          name,
          queryParameterMatchSpecifier: {
            case: 'stringMatch' as const,
            value: stringMatcher(sm as StringMatch),
          },
        },
  );
  return {
    pathSpecifier,
    caseSensitive: m?.ignoreUriCase ? false : undefined,
    headers,
    queryParameters,
  };
}

/** Does this match block apply to this proxy and port? (port, sourceLabels, sourceNamespace, gateways) */
export function matchApplies(m: HTTPMatchRequest, vs: VirtualService, ctx: RouteContext): boolean {
  if (m.port !== undefined && ctx.port !== 0 && m.port !== ctx.port) return false;
  if (m.sourceLabels && (ctx.gateway !== 'mesh' || !selectorMatches(m.sourceLabels, ctx.scope.proxy.labels)))
    return false;
  if (m.sourceNamespace && m.sourceNamespace !== ctx.scope.proxy.namespace) return false;
  if (m.gateways && m.gateways.length > 0) {
    const refs = m.gateways.map((g) => (g === 'mesh' || g.includes('/') ? g : `${namespaceOf(vs)}/${g}`));
    if (!refs.includes(ctx.gateway)) return false;
  }
  return true;
}

/** The cluster a destination names: host resolved in the VS namespace; port from the destination, else the
 *  service's only port, else the port the request arrived on. */
export function destinationCluster(dest: Destination, vsNamespace: string, ctx: RouteContext): string {
  const host = resolveHost(dest.host, vsNamespace, ctx.index.mesh.domainSuffix);
  const svc = ctx.index.services.byHost(host);
  let port = dest.port?.number;
  if (port === undefined) port = svc && svc.ports.length === 1 ? svc.ports[0]!.port : ctx.port;
  return outboundClusterName(port, dest.subset ?? '', host);
}

const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';

/** Istio's retry translation; with no `retries` the mesh default (2 attempts, no 503 since Istio 1.24). */
export function retryPolicy(
  retries: HTTPRetry | undefined,
  ctx: RouteContext,
  hashBased: boolean,
): RouteActionInit['retryPolicy'] {
  const r = retries ?? ctx.index.mesh.defaultHttpRetryPolicy ?? { attempts: 2, retryOn: DEFAULT_RETRY_ON };
  if (!r.attempts || r.attempts <= 0) return undefined;
  const codes: number[] = [];
  const on: string[] = [];
  for (const part of (r.retryOn ?? DEFAULT_RETRY_ON)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (/^\d{3}$/.test(part)) codes.push(Number(part));
    else on.push(part);
  }
  if (codes.length > 0 && !on.includes('retriable-status-codes')) on.push('retriable-status-codes');
  const ignorePrevious = r.retryIgnorePreviousHosts ?? true;
  return {
    retryOn: on.join(','),
    numRetries: r.attempts,
    perTryTimeout: duration(r.perTryTimeout),
    retriableStatusCodes: codes,
    hostSelectionRetryMaxAttempts: 5n,
    retryHostPredicate:
      ignorePrevious && !hashBased
        ? [
            {
              name: 'envoy.retry_host_predicates.previous_hosts',
              configType: { case: 'typedConfig' as const, value: typed(PreviousHostsPredicateSchema, {}) },
            },
          ]
        : [],
    retryBackOff: r.backoff ? { baseInterval: duration(r.backoff) } : undefined,
  };
}

const GRPC_CODES: Record<string, number> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

/** Istio: a percentage that is not set faults nobody (the deprecated integer `percent` is read as a fallback). */
export function faultConfig(fault: HTTPFaultInjection) {
  const delayMs = fault.delay
    ? parseDuration(fault.delay.fixedDelay ?? fault.delay.exponentialDelay ?? '0s')
    : undefined;
  const abort = fault.abort;
  return typed(HTTPFaultSchema, {
    delay:
      fault.delay && delayMs !== undefined
        ? {
            faultDelaySecifier: { case: 'fixedDelay', value: ms(delayMs) },
            percentage: fractionalPercent(fault.delay.percentage?.value ?? fault.delay.percent ?? 0),
          }
        : undefined,
    abort: abort
      ? {
          errorType:
            abort.grpcStatus !== undefined
              ? { case: 'grpcStatus', value: GRPC_CODES[abort.grpcStatus] ?? Number(abort.grpcStatus) }
              : { case: 'httpStatus', value: abort.httpStatus ?? 500 },
          percentage: fractionalPercent(abort.percentage?.value ?? 0),
        }
      : undefined,
  });
}

export function corsConfig(cors: CorsPolicy) {
  const origins = [
    ...(cors.allowOrigins ?? []),
    ...(cors.allowOrigin ?? []).map((o) => (o === '*' ? { regex: '.*' } : { exact: o })),
  ];
  return typed(CorsPolicySchema, {
    allowOriginStringMatch: origins.map((o) => stringMatcher(o)),
    allowMethods: (cors.allowMethods ?? []).join(','),
    allowHeaders: (cors.allowHeaders ?? []).join(','),
    exposeHeaders: (cors.exposeHeaders ?? []).join(','),
    maxAge: cors.maxAge ? String(Math.round((parseDuration(cors.maxAge) ?? 0) / 1000)) : '',
    allowCredentials: cors.allowCredentials,
    forwardNotMatchingPreflights: cors.unmatchedPreflights === 'IGNORE' ? false : undefined,
  });
}

export function headerOptions(ops: HeaderOperations | undefined) {
  const add = [
    ...Object.entries(ops?.set ?? {}).map(([key, value]) => ({
      header: { key, value },
      appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
    })),
    ...Object.entries(ops?.add ?? {}).map(([key, value]) => ({
      header: { key, value },
      appendAction: HeaderValueOption_HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD,
    })),
  ];
  return { add, remove: ops?.remove ?? [] };
}

const REDIRECT_CODES: Record<number, RedirectAction_RedirectResponseCode> = {
  301: RedirectAction_RedirectResponseCode.MOVED_PERMANENTLY,
  302: RedirectAction_RedirectResponseCode.FOUND,
  303: RedirectAction_RedirectResponseCode.SEE_OTHER,
  307: RedirectAction_RedirectResponseCode.TEMPORARY_REDIRECT,
  308: RedirectAction_RedirectResponseCode.PERMANENT_REDIRECT,
};

function hashPolicies(cluster: string, ctx: RouteContext) {
  // outbound|port|subset|host: the destination's DestinationRule decides consistent hashing.
  const [, , subset, host] = cluster.split('|');
  const svc = host ? ctx.index.services.byHost(host) : undefined;
  if (!svc) return [];
  const rule = destinationRuleFor(ctx.index, ctx.scope, svc);
  const sub = subset ? rule?.spec.subsets?.find((s) => s.name === subset) : undefined;
  const hash = (sub?.trafficPolicy?.loadBalancer ?? rule?.spec.trafficPolicy?.loadBalancer)?.consistentHash;
  if (!hash) return [];
  if (hash.httpHeaderName)
    return [{ policySpecifier: { case: 'header' as const, value: { headerName: hash.httpHeaderName } } }];
  if (hash.httpCookie)
    return [
      {
        policySpecifier: {
          case: 'cookie' as const,
          value: {
            name: hash.httpCookie.name,
            path: hash.httpCookie.path ?? '',
            ttl: duration(hash.httpCookie.ttl),
          },
        },
      },
    ];
  if (hash.useSourceIp)
    return [{ policySpecifier: { case: 'connectionProperties' as const, value: { sourceIp: true } } }];
  if (hash.httpQueryParameterName)
    return [
      { policySpecifier: { case: 'queryParameter' as const, value: { name: hash.httpQueryParameterName } } },
    ];
  return [];
}

function routeAction(route: HTTPRoute, vs: VirtualService, ctx: RouteContext): RouteInit['action'] {
  const ns = namespaceOf(vs);
  if (route.redirect) {
    const r = route.redirect;
    return {
      case: 'redirect',
      value: {
        schemeRewriteSpecifier: r.scheme
          ? r.scheme === 'https'
            ? { case: 'httpsRedirect', value: true }
            : { case: 'schemeRedirect', value: r.scheme }
          : { case: undefined },
        hostRedirect: r.authority ?? '',
        portRedirect: r.port ?? 0,
        pathRewriteSpecifier: r.uri ? { case: 'pathRedirect', value: r.uri } : { case: undefined },
        responseCode:
          REDIRECT_CODES[r.redirectCode ?? 301] ?? RedirectAction_RedirectResponseCode.MOVED_PERMANENTLY,
      },
    };
  }
  if (route.directResponse) {
    const d = route.directResponse;
    const body =
      d.body?.string !== undefined
        ? { specifier: { case: 'inlineString' as const, value: d.body.string } }
        : d.body?.bytes !== undefined
          ? { specifier: { case: 'inlineBytes' as const, value: Buffer.from(d.body.bytes, 'base64') } }
          : undefined;
    return { case: 'directResponse', value: { status: d.status, body } };
  }
  const dests = (route.route ?? []).filter(
    (d) => d.weight === undefined || d.weight > 0 || (route.route ?? []).length === 1,
  );
  const clusters = dests.map((d) => ({ d, name: destinationCluster(d.destination, ns, ctx) }));
  const first = clusters[0];
  const weighted = clusters.length > 1;
  const hashBased = first ? hashPolicies(first.name, ctx).length > 0 : false;
  const mirrors = [
    ...(route.mirror
      ? [
          {
            destination: route.mirror,
            percentage: route.mirrorPercentage?.value ?? route.mirrorPercent ?? 100,
          },
        ]
      : []),
    ...(route.mirrors ?? []).map((m) => ({
      destination: m.destination,
      percentage: m.percentage?.value ?? 100,
    })),
  ];
  const timeoutMs = route.timeout !== undefined ? (parseDuration(route.timeout) ?? 0) : 0;
  const rewrite = route.rewrite;
  return {
    case: 'route',
    value: {
      clusterSpecifier: weighted
        ? {
            case: 'weightedClusters',
            value: {
              clusters: clusters.map(({ d, name }) => {
                const req = headerOptions(d.headers?.request);
                const res = headerOptions(d.headers?.response);
                return {
                  name,
                  weight: d.weight ?? 0,
                  requestHeadersToAdd: req.add,
                  requestHeadersToRemove: req.remove,
                  responseHeadersToAdd: res.add,
                  responseHeadersToRemove: res.remove,
                };
              }),
            },
          }
        : { case: 'cluster', value: first?.name ?? '' },
      // Istio: the request timeout is disabled unless the route sets one.
      timeout: ms(timeoutMs),
      // Faults make Istio drop retries (the proto says timeouts and retries are not enabled with faults).
      retryPolicy: route.fault ? undefined : retryPolicy(route.retries, ctx, hashBased),
      requestMirrorPolicies: mirrors.map((m) => ({
        cluster: destinationCluster(m.destination, ns, ctx),
        runtimeFraction: { defaultValue: fractionalPercent(m.percentage) },
        traceSampled: false,
      })),
      prefixRewrite: rewrite?.uri ?? '',
      regexRewrite: rewrite?.uriRegexRewrite
        ? { pattern: { regex: rewrite.uriRegexRewrite.match }, substitution: rewrite.uriRegexRewrite.rewrite }
        : undefined,
      hostRewriteSpecifier: rewrite?.authority
        ? { case: 'hostRewriteLiteral', value: rewrite.authority }
        : { case: undefined },
      hashPolicy: first ? hashPolicies(first.name, ctx) : [],
      maxStreamDuration: {
        maxStreamDuration: timeoutMs > 0 ? ms(timeoutMs) : undefined,
        grpcTimeoutHeaderMax: ms(0),
      },
      upgradeConfigs: [{ upgradeType: 'websocket' }],
    },
  };
}

/** Routes for one HTTPRoute: one per applicable match block (ORed), or one catch-all when it has no match. */
export function translateHttpRoute(
  route: HTTPRoute,
  vs: VirtualService,
  ctx: RouteContext,
  index: number,
): RouteInit[] {
  const matches =
    route.match && route.match.length > 0 ? route.match.filter((m) => matchApplies(m, vs, ctx)) : [undefined];
  if (matches.length === 0) return [];
  const action = routeAction(route, vs, ctx);
  const req = headerOptions(route.headers?.request);
  const res = headerOptions(route.headers?.response);
  const onlyDest = route.route?.length === 1 ? route.route[0] : undefined;
  const destReq = headerOptions(onlyDest?.headers?.request);
  const destRes = headerOptions(onlyDest?.headers?.response);
  const typedPerFilterConfig: Record<string, ReturnType<typeof typed>> = {};
  if (route.fault) typedPerFilterConfig[FAULT_FILTER] = faultConfig(route.fault);
  if (route.corsPolicy) typedPerFilterConfig[CORS_FILTER] = corsConfig(route.corsPolicy);
  return matches.map((m) => ({
    name: m?.name ? `${route.name ?? ''}.${m.name}` : (route.name ?? ''),
    match: routeMatch(m),
    action,
    decorator: { operation: `${ctx.vhostName}/*` },
    requestHeadersToAdd: [...req.add, ...destReq.add],
    requestHeadersToRemove: [...req.remove, ...destReq.remove],
    responseHeadersToAdd: [...res.add, ...destRes.add],
    responseHeadersToRemove: [...res.remove, ...destRes.remove],
    typedPerFilterConfig,
    metadata: { filterMetadata: { istio: { config: configPath(vs), route_index: index } } },
  }));
}
