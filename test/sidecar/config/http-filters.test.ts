// HTTP and network filter configs decoded from the goldens: RBAC, JWT, ext_authz, rate limits, telemetry.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type {
  FilterChain,
  HcmConfig,
  HttpFilterConfig,
  RbacPermission,
  RbacPrincipal,
  SidecarConfig,
} from '../../../src/sidecar/config/index.js';
import { headerLookup } from '../../../src/sidecar/config/testing/resources.js';
import { goldenConfig } from './goldens.js';

function chain(config: SidecarConfig, listener: string, name: string): FilterChain {
  const c = config.listeners.get(listener)!.filterChains.find((x) => x.name === name);
  assert.ok(c, `no chain ${name} on ${listener}`);
  return c;
}

function hcm(c: FilterChain): HcmConfig {
  assert.equal(c.terminal.kind, 'http');
  return (c.terminal as { kind: 'http'; hcm: HcmConfig }).hcm;
}

function filter<K extends HttpFilterConfig['kind']>(h: HcmConfig, kind: K, nth = 0) {
  const f = h.httpFilters.filter((x) => x.kind === kind)[nth];
  assert.ok(f, `no ${kind} filter #${nth}`);
  return f as Extract<HttpFilterConfig, { kind: K }>;
}

/** Every node of a kind in a permission or principal tree, depth first. */
function collect<T extends { kind: string }>(node: T, kind: string, out: T[] = []): T[] {
  if (node.kind === kind) out.push(node);
  const n = node as unknown as { rules?: T[]; ids?: T[]; rule?: T; id?: T };
  for (const c of [
    ...(n.rules ?? []),
    ...(n.ids ?? []),
    ...(n.rule ? [n.rule] : []),
    ...(n.id ? [n.id] : []),
  ])
    collect(c, kind, out);
  return out;
}

test('authorization on reviews: DENY, ALLOW and AUDIT RBAC filters in Istio order, policies sorted by name', () => {
  const h = hcm(chain(goldenConfig('authorization/reviews-v1'), 'virtualInbound', '9080-mtls-http'));
  assert.deepEqual(
    h.httpFilters.map((f) => (f.kind === 'rbac' ? `rbac:${f.rules?.action}` : f.kind)),
    ['rbac:DENY', 'rbac:ALLOW', 'rbac:LOG', 'router'],
  );
  const allow = filter(h, 'rbac', 1).rules!;
  assert.deepEqual(
    allow.policies.map((p) => p.name),
    ['ns[default]-policy[reviews-viewer]-rule[0]', 'ns[default]-policy[reviews-viewer]-rule[1]'],
  );
  const viewer = allow.policies[0]!;
  const principal = collect<RbacPrincipal>(viewer.principals[0]!, 'authenticated')[0];
  assert.equal(
    principal?.kind === 'authenticated' &&
      principal.principalName?.test('spiffe://cluster.local/ns/default/sa/bookinfo-productpage'),
    true,
  );
  // Istio's URI template /reviews/{*} became a full-match regex: one segment only.
  const paths = viewer.permissions.flatMap((p) => collect<RbacPermission>(p, 'urlPath'));
  const template = paths.find((p) => p.kind === 'urlPath' && p.match.kind === 'regex');
  assert.ok(template?.kind === 'urlPath');
  assert.equal(template.match.test('/reviews/1'), true);
  assert.equal(template.match.test('/reviews/1/x'), false);
});

test('DENY header conditions read repeated headers joined with ",": a second x-token value cannot bypass', () => {
  const h = hcm(chain(goldenConfig('authorization/reviews-v1'), 'virtualInbound', '9080-mtls-http'));
  const deny = filter(h, 'rbac', 0).rules!;
  assert.equal(deny.action, 'DENY');
  const not = collect<RbacPermission>(deny.policies[0]!.permissions[0]!, 'not')[0];
  assert.ok(not?.kind === 'not' && not.rule.kind === 'header');
  const token = not.rule.matcher;
  assert.equal(token.name, 'x-token');
  assert.equal(token.matches(headerLookup({ 'x-token': 'admin' })), true);
  // "admin" alongside another value no longer equals "admin": the negation holds and DENY applies.
  assert.equal(token.matches(headerLookup({ 'x-token': ['admin', 'evil'] })), false);
});

test('TCP ports get network RBAC before tcp_proxy; an HTTP-only DENY rule denies every connection there', () => {
  const c = chain(goldenConfig('authorization/reviews-v1'), 'virtualInbound', '9100-plaintext-tcp');
  assert.deepEqual(
    c.networkFilters.map((f) => f.rules?.action),
    ['DENY', 'ALLOW', 'LOG'],
  );
  const deny = c.networkFilters[0]!.rules!.policies[0]!;
  assert.deepEqual(deny.permissions, [{ kind: 'any' }]);
  assert.deepEqual(deny.principals, [{ kind: 'any' }]);
  assert.equal(c.terminal.kind === 'tcp' && c.terminal.tcp.clusters[0]?.name, 'inbound|9100||');
});

test('RequestAuthentication on ratings: JWT providers with inline JWKS, anonymous requests allowed', () => {
  const h = hcm(chain(goldenConfig('authorization/ratings'), 'virtualInbound', '9080-mtls-http'));
  assert.equal(h.httpFilters[0]!.kind, 'jwt');
  const jwt = filter(h, 'jwt').config;
  assert.equal(jwt.allowMissing, true);
  assert.deepEqual(
    jwt.providers.map((p) => p.name),
    ['origins-0-testing@secure.istio.io', 'origins-1-inline@example.com'],
  );
  const [testing, inline] = jwt.providers;
  assert.deepEqual(testing!.fromHeaders, [{ name: 'x-jwt', valuePrefix: 'Bearer ' }]);
  assert.deepEqual(testing!.fromParams, ['access_token']);
  assert.equal(testing!.forwardPayloadHeader, 'x-jwt-payload');
  assert.equal(testing!.payloadInMetadata, 'testing@secure.istio.io');
  assert.equal(testing!.clockSkewSeconds, 60);
  assert.ok((JSON.parse(testing!.jwks) as { keys: unknown[] }).keys.length > 0);
  assert.deepEqual(inline!.audiences, ['bookinfo']);
  assert.equal(inline!.forward, true);
  assert.equal((JSON.parse(inline!.jwks) as { keys: { kid: string }[] }).keys[0]!.kid, 'k1');
  // The ALLOW rule reads what the JWT filter publishes (istio_authn) and the direct peer address.
  const allow = filter(h, 'rbac', 0).rules!.policies[0]!;
  const metadata = collect<RbacPrincipal>(allow.principals[0]!, 'metadata').map((p) =>
    p.kind === 'metadata' ? [p.matcher.filter, p.matcher.path.join('.'), p.matcher.value.kind] : [],
  );
  assert.deepEqual(metadata, [
    ['istio_authn', 'request.auth.principal', 'string'],
    ['istio_authn', 'request.auth.claims.groups', 'listOneOf'],
  ]);
  assert.deepEqual(collect<RbacPrincipal>(allow.principals[0]!, 'directRemoteIp'), [
    { kind: 'directRemoteIp', cidr: { address: '10.1.0.0', prefixLen: 16 } },
  ]);
});

test('CUSTOM authorization on details: shadow RBAC marks the request, ext_authz runs only when marked', () => {
  const h = hcm(chain(goldenConfig('authorization/details'), 'virtualInbound', '9080-mtls-http'));
  const shadow = filter(h, 'rbac', 0);
  assert.equal(shadow.rules, undefined);
  assert.equal(shadow.shadowRulesStatPrefix, 'istio_ext_authz_');
  assert.deepEqual(
    shadow.shadowRules!.policies.map((p) => p.name),
    ['istio-ext-authz-ns[default]-policy[ext-authz]-rule[0]'],
  );
  const ext = filter(h, 'extAuthz').config;
  assert.ok(ext.service.kind === 'http');
  assert.equal(ext.service.cluster, 'outbound|8000||ext-authz.foo.svc.cluster.local');
  assert.equal(ext.service.timeoutMs, 600_000);
  assert.equal(ext.service.allowedHeaders[0]!.test('X-Ext-Authz'), true);
  assert.equal(ext.statusOnError, 403);
  assert.equal(ext.failureModeAllow, false);
  assert.deepEqual(
    [ext.enabledMetadata?.filter, ext.enabledMetadata?.path, ext.enabledMetadata?.value.kind],
    ['envoy.filters.http.rbac', ['istio_ext_authz_shadow_effective_policy_id'], 'string'],
  );
});

test('local rate limits from EnvoyFilter: a listener bucket, and a per-route bucket on the inbound route', () => {
  const productpage = hcm(
    chain(goldenConfig('envoyfilter-ratelimit/productpage'), 'virtualInbound', '9080-mtls-http'),
  );
  const rl = filter(productpage, 'localRateLimit').config;
  assert.deepEqual(rl.tokenBucket, { maxTokens: 4, tokensPerFill: 4, fillIntervalMs: 60_000 });
  assert.equal(rl.filterEnabled, 1);
  assert.equal(rl.filterEnforced, 1);
  assert.deepEqual(
    rl.responseHeadersToAdd.map((x) => x.name),
    ['x-local-rate-limit'],
  );
  const details = hcm(
    chain(goldenConfig('envoyfilter-ratelimit/details'), 'virtualInbound', '9080-mtls-http'),
  );
  assert.equal(filter(details, 'localRateLimit').config.tokenBucket, undefined);
  const route = details.routeConfig!.virtualHosts[0]!.routes[0]!;
  assert.deepEqual(route.localRateLimit?.tokenBucket, {
    maxTokens: 4,
    tokensPerFill: 4,
    fillIntervalMs: 60_000,
  });
});

test('telemetry: Zipkin tracing at 100% with a custom tag, JSON access log; outbound filters fault, cors, router', () => {
  const h = hcm(goldenConfig('telemetry/productpage').listeners.get('0.0.0.0_9080')!.filterChains[0]!);
  assert.deepEqual(
    h.httpFilters.map((f) => f.kind),
    ['fault', 'cors', 'router'],
  );
  assert.deepEqual(h.tracing?.provider, {
    kind: 'zipkin',
    collectorCluster: 'outbound|9411||zipkin.istio-system.svc.cluster.local',
    endpoint: '/api/v2/spans',
    traceId128bit: true,
    sharedSpanContext: false,
  });
  assert.equal(h.tracing?.randomSamplingPercent, 100);
  assert.deepEqual(h.tracing?.customTags, [{ tag: 'team', literal: 'bookinfo' }]);
  assert.equal(h.tracing?.spawnUpstreamSpan, true);
  const log = h.accessLog[0]!;
  assert.equal(log.path, '/dev/stdout');
  assert.equal(log.format.kind === 'json' && log.format.json.response_flags, '%RESPONSE_FLAGS%');
  assert.equal(h.streamIdleTimeoutMs, 3_600_000);
  assert.equal(h.serverName, 'istio-envoy');
  assert.equal(h.forwardClientCert, 'SANITIZE');
  assert.equal(h.normalizePath, true);
  assert.equal(h.websocket, true);
});
