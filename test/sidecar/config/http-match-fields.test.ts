// Every HTTPMatchRequest field and HTTPRoute action of the http-match-fields golden, matched as Envoy would.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  findRoute,
  type RouteActionConfig,
  type RouteEntry,
  type SidecarConfig,
} from '../../../src/sidecar/config/index.js';
import { request } from '../../../src/sidecar/config/testing/resources.js';
import { goldenConfig } from './goldens.js';

// Every HTTPMatchRequest field and HTTPRoute action (test/golden/translate/http-match-fields), from the client.
const client = goldenConfig('http-match-fields/client');
const WEB = 'web.shop.svc.cluster.local';

function route(
  config: SidecarConfig,
  port: number,
  path: string,
  headers: Record<string, string> = {},
): RouteEntry | undefined {
  const table = config.routes.get(String(port))!;
  const authority = headers[':authority'] ?? `web:${port}`;
  const vhost = table.findVirtualHost(authority)!;
  return findRoute(
    vhost,
    request(path, { ':authority': authority, ':method': 'GET', ':scheme': 'http', ...headers }),
  );
}

function forward(r: RouteEntry | undefined): RouteActionConfig {
  assert.equal(r?.action.kind, 'route', `expected a forwarding route, got ${r?.name}`);
  return r!.action as RouteActionConfig;
}

test('one match block ANDs method, scheme, authority, headers, absent headers and query parameters', () => {
  const ok = { ':method': 'POST', 'x-user': 'alice', 'x-present': '', 'x-debug': '0' };
  assert.equal(route(client, 80, '/login?lang=en&beta', ok)?.name, 'exact-and-headers');
  const misses: [string, Record<string, string>][] = [
    ['/login?lang=en&beta', { ...ok, ':method': 'GET' }],
    ['/login?lang=en&beta', { ...ok, ':scheme': 'https' }],
    ['/login?lang=en&beta', { ...ok, ':authority': 'legacy.shop:80' }],
    ['/login?lang=en&beta', { ...ok, 'x-user': 'mallory' }],
    ['/login?lang=en&beta', { ...ok, 'x-user': 'alicex' }],
    ['/login?lang=en&beta', { ':method': 'POST', 'x-user': 'bob', 'x-debug': '0' }],
    ['/login?lang=en&beta', { ...ok, 'x-debug': '1' }],
    ['/login?lang=fr&beta', ok],
    ['/login?lang=en', ok],
  ];
  for (const [path, headers] of misses) {
    assert.notEqual(
      route(client, 80, path, headers)?.name,
      'exact-and-headers',
      `${path} ${JSON.stringify(headers)}`,
    );
  }
  // x-debug with another value is fine: only x-debug: 1 is excluded.
  assert.equal(
    route(client, 80, '/login?lang=en&beta', { ...ok, 'x-debug': '0' })?.name,
    'exact-and-headers',
  );
});

test('ignoreUriCase prefixes match any ASCII case and carry the rewrite and authority', () => {
  for (const path of ['/API/v1', '/api/v1', '/Api/x'])
    assert.equal(route(client, 80, path)?.name, 'case-insensitive-prefix', path);
  assert.notEqual(route(client, 80, '/apix')?.name, 'case-insensitive-prefix');
  const a = forward(route(client, 80, '/api/v1'));
  assert.equal(a.prefixRewrite, '/v2/api/');
  assert.equal(a.hostRewrite, 'api.internal');
});

test('regex URIs match the whole path, and regex rewrites substitute capture groups', () => {
  assert.equal(route(client, 80, '/items/42')?.name, 'regex-rewrite');
  assert.equal(route(client, 80, '/items/42?x=1')?.name, 'regex-rewrite');
  assert.notEqual(route(client, 80, '/items/42/reviews')?.name, 'regex-rewrite');
  assert.notEqual(route(client, 80, '/items/abc')?.name, 'regex-rewrite');
  const rr = forward(route(client, 80, '/items/42')).regexRewrite!;
  assert.equal('/items/42'.replace(rr.pattern, rr.substitution), '/catalog/42');
});

test('port-scoped and source-scoped matches land only where they apply', () => {
  assert.equal(route(client, 9090, '/grpc.health')?.name, 'only-grpc-port');
  assert.notEqual(route(client, 80, '/grpc.health')?.name, 'only-grpc-port');
  // The client pod has role: tester; the web pod does not.
  assert.equal(route(client, 80, '/beta')?.name, 'testers-only');
  assert.notEqual(route(goldenConfig('http-match-fields/web'), 80, '/beta')?.name, 'testers-only');
  assert.notEqual(route(client, 80, '/never-here')?.name, 'other-namespace-only');
  assert.notEqual(route(client, 80, '/gw')?.name, 'gateway-only');
  assert.equal(forward(route(client, 9090, '/grpc.x')).timeoutMs, 2500);
});

test('redirects and direct responses', () => {
  const moved = route(client, 80, '/old?keep=1')!.action;
  assert.deepEqual(moved, {
    kind: 'redirect',
    status: 308,
    stripQuery: false,
    scheme: 'https',
    host: `${WEB}`,
    port: 8443,
    path: '/new',
  });
  const teapot = route(client, 80, '/teapot')!.action;
  assert.equal(
    teapot.kind === 'directResponse' && `${teapot.status} ${teapot.body?.toString()}`,
    "418 I'm a teapot",
  );
  const bytes = route(client, 80, '/bytes')!.action;
  assert.equal(bytes.kind === 'directResponse' && `${bytes.status} ${bytes.body?.toString()}`, '200 hello');
});

test('delegate-merged routes: the child narrows the parent /shop match, conflicting children are dropped', () => {
  assert.deepEqual(
    forward(route(client, 80, '/shop/cart/1', { 'x-cart': 'yes' })).clusters.map((c) => c.name),
    [`outbound|80||legacy.shop.svc.cluster.local`],
  );
  // Without the header the cart falls to the delegate's catch-all, which inherited the parent's /shop prefix.
  assert.deepEqual(
    forward(route(client, 80, '/shop/cart/1')).clusters.map((c) => c.name),
    [`outbound|80||${WEB}`],
  );
  assert.equal(route(client, 80, '/shop/cart/1')?.match.path.value, '/shop');
  // The delegate's /elsewhere does not narrow /shop, so it was dropped: /elsewhere falls through to "mirrors".
  assert.equal(route(client, 80, '/elsewhere')?.name, 'mirrors');
});

test('mirrors, gRPC fault aborts, and no retries on a route with a fault (Istio)', () => {
  const r = route(client, 80, '/anything')!;
  assert.equal(r.name, 'mirrors');
  const a = forward(r);
  assert.deepEqual(a.mirrors, [
    { cluster: 'outbound|80||legacy.shop.svc.cluster.local', fraction: 0.1 },
    { cluster: `outbound|9090||${WEB}`, fraction: 1 },
  ]);
  assert.deepEqual(r.fault, { abort: { grpcStatus: 14, percentage: { fraction: 0.005 } } });
  assert.equal(a.retry, undefined);
  assert.equal(a.websocket, true);
  assert.equal(a.grpcTimeoutHeaderMaxMs, 0);
});
