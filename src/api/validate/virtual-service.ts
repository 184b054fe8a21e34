// VirtualService: the shape of every field and Istio's admission rules (actions, weights, hosts, gateways).

import type { FieldPath } from '../messages.js';
import {
  arrayOf,
  bool,
  type CheckContext,
  enumOf,
  int,
  mapOf,
  object,
  opt,
  refine,
  refineAlways,
  report,
  req,
  type Schema,
  str,
} from '../schema/schema.js';
import type {
  CorsPolicy,
  Delegate,
  HTTPDirectResponse,
  HTTPFaultInjection,
  HTTPMatchRequest,
  HTTPMirrorPolicy,
  HTTPRedirect,
  HTTPRetry,
  HTTPRewrite,
  HTTPRoute,
  HTTPRouteDestination,
  L4MatchAttributes,
  RegexRewrite,
  RouteDestination,
  TCPRoute,
  TLSMatchAttributes,
  TLSRoute,
  VirtualServiceSpec,
} from '../types/networking.js';
import {
  cidr,
  destination,
  dnsLabel,
  duration,
  exportTo,
  headerMap,
  headerName,
  headers,
  labels,
  percent,
  port,
  re2,
} from './common.js';
import { fqdnError, hostCovers, isDns1123Label, isIpAddress, wildcardDomainError } from './names.js';
import { presenceOrMatch, stringMatch } from './string-match.js';

/** Gateway references: `mesh`, `namespace/name`, or a bare (or fully qualified) name. */
function gatewayNameProblem(name: string): string | undefined {
  if (name === 'mesh') return undefined;
  const slash = name.indexOf('/');
  if (slash < 0) return fqdnError(name) ? `invalid gateway name "${name}"` : undefined;
  const ns = name.slice(0, slash);
  const gw = name.slice(slash + 1);
  if (!ns || !gw) return `gateway "${name}": namespace and name cannot be empty`;
  if (!isDns1123Label(ns)) return `gateway "${name}": invalid namespace "${ns}"`;
  if (!isDns1123Label(gw)) return `gateway "${name}": invalid gateway name "${gw}"`;
  return undefined;
}

const gatewayNames = (): Schema<string[]> =>
  refine(arrayOf(str()), (v, path, ctx) => {
    v.forEach((g, i) => {
      const p = gatewayNameProblem(g);
      if (p) report(ctx, [...path, i], p);
    });
  });

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE'];

const RETRY_ON = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'envoy-ratelimited',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);

const matchRequest = (): Schema<HTTPMatchRequest> =>
  refine(
    object<HTTPMatchRequest>({
      name: opt(str()),
      uri: opt(stringMatch({ allowEmptyPrefix: true })),
      scheme: opt(stringMatch()),
      method: opt(stringMatch()),
      authority: opt(stringMatch()),
      headers: opt(headerMap(presenceOrMatch(), 'header match', 'error', true)),
      port: opt(port()),
      sourceLabels: opt(labels()),
      gateways: opt(gatewayNames()),
      queryParams: opt(mapOf(presenceOrMatch())),
      ignoreUriCase: opt(bool()),
      withoutHeaders: opt(headerMap(presenceOrMatch(), 'header match', 'error', true)),
      sourceNamespace: opt(dnsLabel('sourceNamespace')),
      statPrefix: opt(str()),
    }),
    (m, path, ctx) => {
      for (const key of ['uri', 'scheme', 'method', 'authority'] as const) {
        if (m.headers && key in m.headers) {
          report(
            ctx,
            [...path, 'headers', key],
            `"${key}" is ignored under headers; match it with the "${key}" field`,
            {
              severity: 'warning',
              atKey: true,
            },
          );
        }
      }
    },
  );

const routeDestination = (): Schema<HTTPRouteDestination> =>
  object<HTTPRouteDestination>({
    destination: req(destination()),
    weight: opt(int({ min: 0, max: 100 })),
    headers: opt(headers()),
  });

const redirect = (): Schema<HTTPRedirect> =>
  refine(
    object<HTTPRedirect>(
      {
        uri: opt(str()),
        authority: opt(str()),
        port: opt(port()),
        derivePort: opt(enumOf(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'])),
        scheme: opt(str()),
        redirectCode: opt(int({ min: 300, max: 399 })),
      },
      { oneOf: [['port', 'derivePort']] },
    ),
    (r, path, ctx) => {
      if (!r.uri && !r.authority && !r.scheme && r.port === undefined && !r.derivePort) {
        report(ctx, path, 'redirect must specify uri, authority, scheme or port');
      }
    },
  );

const directResponse = (): Schema<HTTPDirectResponse> =>
  object<HTTPDirectResponse>({
    status: req(int({ min: 200, max: 599 })),
    body: opt(
      object<{ string?: string; bytes?: string }>(
        { string: opt(str()), bytes: opt(str()) },
        { oneOf: [['string', 'bytes']] },
      ),
    ),
  });

const delegate = (): Schema<Delegate> =>
  object<Delegate>({ name: req(dnsLabel('delegate name')), namespace: opt(dnsLabel('namespace')) });

const rewrite = (): Schema<HTTPRewrite> =>
  refine(
    object<HTTPRewrite>(
      {
        uri: opt(str()),
        authority: opt(str()),
        uriRegexRewrite: opt(object<RegexRewrite>({ match: req(re2()), rewrite: req(str()) })),
      },
      { oneOf: [['uri', 'uriRegexRewrite']] },
    ),
    (r, path, ctx) => {
      if (!r.uri && !r.authority && !r.uriRegexRewrite) {
        report(ctx, path, 'rewrite must specify uri, authority or uriRegexRewrite');
      }
    },
  );

const retries = (): Schema<HTTPRetry> =>
  refine(
    object<HTTPRetry>({
      attempts: opt(int({ min: 0 })),
      perTryTimeout: opt(duration()),
      retryOn: opt(str()),
      retryRemoteLocalities: opt(bool()),
      retryIgnorePreviousHosts: opt(bool()),
      backoff: opt(duration()),
    }),
    (r, path, ctx) => {
      if (r.attempts === 0 && (r.perTryTimeout || r.retryOn || r.retryRemoteLocalities !== undefined)) {
        report(
          ctx,
          [...path, 'attempts'],
          'retry settings are given but attempts is 0, which disables retries',
        );
      }
      for (const policy of (r.retryOn ?? '').split(',').filter((p) => p !== '')) {
        const code = Number(policy.trim());
        if (!RETRY_ON.has(policy.trim()) && !(Number.isInteger(code) && code >= 100 && code <= 599)) {
          report(
            ctx,
            [...path, 'retryOn'],
            `"${policy}" is not a valid retryOn policy (Envoy's x-envoy-retry-on or x-envoy-retry-grpc-on values, or an HTTP status code)`,
          );
        }
      }
    },
  );

const fault = (): Schema<HTTPFaultInjection> =>
  refine(
    object<HTTPFaultInjection>({
      delay: opt(
        refine(
          object<NonNullable<HTTPFaultInjection['delay']>>(
            {
              fixedDelay: opt(duration()),
              exponentialDelay: opt(duration()),
              percentage: opt(percent()),
              percent: opt(int({ min: 0, max: 100 }), 'use percentage: {value: N}'),
            },
            { oneOf: [['fixedDelay', 'exponentialDelay']] },
          ),
          (d, path, ctx) => {
            if (d.exponentialDelay)
              report(
                ctx,
                [...path, 'exponentialDelay'],
                'exponentialDelay is not supported (Istio does not implement it); use fixedDelay',
              );
            else if (!d.fixedDelay) report(ctx, path, 'delay needs fixedDelay', { code: 'MissingField' });
          },
        ),
      ),
      abort: opt(
        refine(
          object<NonNullable<HTTPFaultInjection['abort']>>(
            {
              httpStatus: opt(int({ min: 200, max: 599 })),
              grpcStatus: opt(str()),
              http2Error: opt(str()),
              percentage: opt(percent()),
            },
            { oneOf: [['httpStatus', 'grpcStatus', 'http2Error']] },
          ),
          (a, path, ctx) => {
            if (a.http2Error)
              report(
                ctx,
                [...path, 'http2Error'],
                'http2Error aborts are not supported (nor by Istio); use httpStatus',
              );
            else if (a.httpStatus === undefined && !a.grpcStatus) {
              report(ctx, path, 'abort needs httpStatus or grpcStatus', { code: 'MissingField' });
            }
          },
        ),
      ),
    }),
    (f, path, ctx) => {
      if (!f.delay && !f.abort) report(ctx, path, 'fault injection must have an abort and/or a delay');
    },
  );

const corsPolicy = (): Schema<CorsPolicy> =>
  object<CorsPolicy>({
    allowOrigins: opt(arrayOf(stringMatch())),
    allowOrigin: opt(arrayOf(str()), 'use allowOrigins: [{exact: "https://example.com"}]'),
    allowMethods: opt(
      refine(arrayOf(str()), (v, path, ctx) => {
        v.forEach((m, i) => {
          if (!METHODS.includes(m))
            report(ctx, [...path, i], `"${m}" is not a supported HTTP method (${METHODS.join(', ')})`);
        });
      }),
    ),
    allowHeaders: opt(arrayOf(headerName('CORS header', { lowercase: 'warning' }))),
    exposeHeaders: opt(arrayOf(headerName('CORS header', { lowercase: 'warning' }))),
    maxAge: opt(duration({ seconds: true })),
    allowCredentials: opt(bool()),
    unmatchedPreflights: opt(enumOf(['UNSPECIFIED', 'FORWARD', 'IGNORE'])),
  });

const mirrorPolicy = (): Schema<HTTPMirrorPolicy> =>
  object<HTTPMirrorPolicy>({ destination: req(destination()), percentage: opt(percent()) });

/** Weights: each 0-100; with more than one destination they must add up to 100 (Istio's rule). */
function checkWeights(route: { weight?: number }[], path: FieldPath, ctx: CheckContext): void {
  if (route.length < 2) return;
  const total = route.reduce((sum, d) => sum + (d.weight ?? 0), 0);
  if (total !== 100) {
    report(
      ctx,
      path,
      `weights must add up to 100 when there is more than one destination, got ${total} (${route.map((d) => d.weight ?? 0).join(' + ')})`,
    );
  }
}

const ACTIONS = ['route', 'redirect', 'directResponse', 'delegate'] as const;

const httpRoute = (): Schema<HTTPRoute> =>
  refine(
    object<HTTPRoute>(
      {
        name: opt(str()),
        match: opt(arrayOf(matchRequest())),
        route: opt(arrayOf(routeDestination())),
        redirect: opt(redirect()),
        directResponse: opt(directResponse()),
        delegate: opt(delegate()),
        rewrite: opt(rewrite()),
        timeout: opt(duration()),
        retries: opt(retries()),
        fault: opt(fault()),
        mirror: opt(destination()),
        mirrors: opt(arrayOf(mirrorPolicy())),
        mirrorPercentage: opt(percent()),
        mirrorPercent: opt(int({ min: 0, max: 100 }), 'use mirrorPercentage: {value: N}'),
        corsPolicy: opt(corsPolicy()),
        headers: opt(headers()),
      },
      { oneOf: [['mirror', 'mirrors']] },
    ),
    (r, path, ctx) => {
      const actions = ACTIONS.filter((a) =>
        a === 'route' ? (r.route?.length ?? 0) > 0 : r[a] !== undefined,
      );
      if (actions.length === 0) {
        report(ctx, path, 'an HTTP route needs one action: route, redirect, directResponse or delegate', {
          code: 'MissingField',
        });
      } else if (actions.length > 1) {
        report(
          ctx,
          [...path, actions[1]!],
          `an HTTP route takes exactly one action, got ${actions.join(' and ')}`,
          { atKey: true },
        );
      }
      if (r.redirect && r.rewrite)
        report(ctx, [...path, 'rewrite'], 'rewrite cannot be combined with redirect', { atKey: true });
      if ((r.redirect || r.directResponse) && r.fault) {
        report(
          ctx,
          [...path, 'fault'],
          `fault cannot be combined with ${r.redirect ? 'redirect' : 'directResponse'}`,
          { atKey: true },
        );
      }
      if (r.directResponse && r.rewrite)
        report(ctx, [...path, 'rewrite'], 'rewrite cannot be combined with directResponse', { atKey: true });
      const authority = [
        r.rewrite?.authority,
        ...Object.keys(r.headers?.request?.set ?? {}),
        ...Object.keys(r.headers?.request?.add ?? {}),
      ]
        .filter((h): h is string => h !== undefined)
        .filter((h, i) => i === 0 || [':authority', 'host'].includes(h.toLowerCase()));
      if (r.rewrite?.authority !== undefined && authority.length > 1) {
        report(
          ctx,
          [...path, 'headers', 'request'],
          'the authority is rewritten twice (rewrite.authority and a host/:authority header)',
        );
      }
      if (r.route) checkWeights(r.route, [...path, 'route'], ctx);
    },
  );

const routeDestinationL4 = (): Schema<RouteDestination> =>
  object<RouteDestination>({ destination: req(destination()), weight: opt(int({ min: 0, max: 100 })) });

const tlsRoute = (): Schema<TLSRoute> =>
  refine(
    object<TLSRoute>({
      match: req(
        arrayOf(
          object<TLSMatchAttributes>({
            sniHosts: req(
              refine(arrayOf(str(), { minItems: 1 }), (v, path, ctx) => {
                v.forEach((h, i) => {
                  const p = wildcardDomainError(h);
                  if (p && !isIpAddress(h)) report(ctx, [...path, i], p);
                });
              }),
            ),
            destinationSubnets: opt(arrayOf(cidr())),
            port: opt(port()),
            sourceLabels: opt(labels()),
            gateways: opt(gatewayNames()),
            sourceNamespace: opt(dnsLabel('sourceNamespace')),
          }),
          { minItems: 1 },
        ),
      ),
      route: opt(arrayOf(routeDestinationL4())),
    }),
    (r, path, ctx) => {
      if (!r.route?.length)
        report(ctx, [...path, 'route'], 'a TLS route needs at least one destination', {
          code: 'MissingField',
        });
      else checkWeights(r.route, [...path, 'route'], ctx);
    },
  );

const tcpRoute = (): Schema<TCPRoute> =>
  refine(
    object<TCPRoute>({
      match: opt(
        arrayOf(
          object<L4MatchAttributes>({
            destinationSubnets: opt(arrayOf(cidr())),
            port: opt(port()),
            sourceSubnet: opt(cidr()),
            sourceLabels: opt(labels()),
            gateways: opt(gatewayNames()),
            sourceNamespace: opt(dnsLabel('sourceNamespace')),
          }),
        ),
      ),
      route: opt(arrayOf(routeDestinationL4())),
    }),
    (r, path, ctx) => {
      if (!r.route?.length)
        report(ctx, [...path, 'route'], 'a TCP route needs at least one destination', {
          code: 'MissingField',
        });
      else checkWeights(r.route, [...path, 'route'], ctx);
    },
  );

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/** Hosts and gateways, checked even when routes have errors (it only trusts what it type-checks itself). */
function checkHosts(
  vs: Partial<Record<keyof VirtualServiceSpec, unknown>>,
  path: FieldPath,
  ctx: CheckContext,
): void {
  const hosts = strings(vs.hosts);
  const gateways = strings(vs.gateways);
  const isDelegate = hosts.length === 0;
  if (isDelegate) {
    if (gateways.length)
      report(
        ctx,
        [...path, 'gateways'],
        'a delegate VirtualService (one without hosts) must not list gateways',
      );
    if (Array.isArray(vs.tls) && vs.tls.length)
      report(ctx, [...path, 'tls'], 'a delegate VirtualService (one without hosts) cannot have tls routes');
    if (Array.isArray(vs.tcp) && vs.tcp.length)
      report(ctx, [...path, 'tcp'], 'a delegate VirtualService (one without hosts) cannot have tcp routes');
  }
  const appliesToMesh = gateways.length === 0 || gateways.includes('mesh');
  let hostsValid = true;
  hosts.forEach((h, i) => {
    const p = wildcardDomainError(h);
    if (p && !isIpAddress(h)) {
      report(ctx, [...path, 'hosts', i], p);
      hostsValid = false;
    } else if (h === '*' && appliesToMesh) {
      report(
        ctx,
        [...path, 'hosts', i],
        'host "*" is not allowed for VirtualServices bound to the mesh (sidecars); bind it to a gateway or name the hosts',
        {
          fix: 'add `gateways: [<your-gateway>]` or list the service hosts',
        },
      );
      hostsValid = false;
    }
  });
  if (hostsValid) {
    for (let i = 0; i < hosts.length; i++) {
      for (let j = i + 1; j < hosts.length; j++) {
        if (hostCovers(hosts[i]!, hosts[j]!) || hostCovers(hosts[j]!, hosts[i]!)) {
          report(
            ctx,
            [...path, 'hosts', j],
            `duplicate hosts in VirtualService: "${hosts[i]}" and "${hosts[j]}"`,
          );
        }
      }
    }
  }
}

function checkSpec(vs: VirtualServiceSpec, path: FieldPath, ctx: CheckContext): void {
  const hosts = vs.hosts ?? [];
  const gateways = vs.gateways ?? [];
  const isDelegate = hosts.length === 0;
  const appliesToGateway = gateways.some((g) => g !== 'mesh');
  if (!vs.http?.length && !vs.tcp?.length && !vs.tls?.length) {
    report(ctx, path, 'a VirtualService needs http, tcp or tls routes', { code: 'MissingField' });
  }
  vs.http?.forEach((r, i) => {
    if (r.delegate && !appliesToGateway) {
      report(
        ctx,
        [...path, 'http', i, 'delegate'],
        'delegate only applies to VirtualServices bound to a gateway',
        { atKey: true },
      );
    }
    if (r.delegate && isDelegate) {
      report(
        ctx,
        [...path, 'http', i, 'delegate'],
        'a delegate VirtualService cannot delegate again (one level only)',
        { atKey: true },
      );
    }
  });
  vs.tls?.forEach((r, i) => {
    r.match.forEach((m, j) => {
      m.sniHosts.forEach((sni, k) => {
        if (!hosts.some((h) => hostCovers(h, sni))) {
          report(
            ctx,
            [...path, 'tls', i, 'match', j, 'sniHosts', k],
            `SNI host "${sni}" is not covered by any of the VirtualService's hosts [${hosts.join(', ')}]`,
          );
        }
      });
    });
  });
}

export const virtualServiceSpec = (): Schema<VirtualServiceSpec> =>
  refine(
    refineAlways(
      object<VirtualServiceSpec>({
        hosts: opt(arrayOf(str())),
        gateways: opt(gatewayNames()),
        http: opt(arrayOf(httpRoute())),
        tls: opt(arrayOf(tlsRoute())),
        tcp: opt(arrayOf(tcpRoute())),
        exportTo: opt(exportTo(false)),
      }),
      checkHosts,
    ),
    checkSpec,
  );
