// Bookinfo routing as the productpage sidecar decodes and matches it: header routes, splits, faults, mirrors.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  findRoute,
  listenerForOriginalDestination,
  pickWeightedCluster,
  type RouteActionConfig,
  type RouteEntry,
  selectFilterChain,
} from '../../../src/sidecar/config/index.js';
import { request } from '../../../src/sidecar/config/testing/resources.js';
import { seededRandom } from '../../../src/sidecar/upstream/lb/conformance.js';
import { goldenConfig } from './goldens.js';

// Bookinfo with the routing of Istio's tasks (test/golden/translate/bookinfo-routing), seen from productpage.
const config = goldenConfig('bookinfo-routing/productpage');
const REVIEWS_VIP = '10.96.0.3';

/** What the productpage sidecar does with an outbound request: listener, chain, route config, vhost, route. */
function outbound(
  ip: string,
  port: number,
  authority: string,
  path: string,
  headers: Record<string, string> = {},
) {
  const listener = listenerForOriginalDestination(config, ip, port);
  assert.ok(listener, `no listener for ${ip}:${port}`);
  const chain = selectFilterChain(listener, {
    destinationIp: ip,
    destinationPort: port,
    sourceIp: '10.1.0.1',
    sourcePort: 50000,
  });
  assert.ok(chain?.terminal.kind === 'http', `${listener.name} has no HTTP chain for ${ip}`);
  const table = config.routes.get(chain.terminal.hcm.rds!)!;
  const vhost = table.findVirtualHost(authority);
  assert.ok(vhost, `no virtual host for ${authority}`);
  const route = findRoute(vhost, request(path, { ':authority': authority, ...headers }));
  return { listener, table, vhost, route };
}

function forward(route: RouteEntry | undefined): RouteActionConfig {
  assert.equal(route?.action.kind, 'route');
  return route!.action as RouteActionConfig;
}

test('a connection to reviews:9080 is handed to the 0.0.0.0_9080 listener and its route config "9080"', () => {
  const { listener, table, vhost } = outbound(REVIEWS_VIP, 9080, 'reviews:9080', '/reviews/0');
  assert.equal(listener.name, '0.0.0.0_9080');
  assert.equal(listener.bindToPort, false);
  assert.equal(table.name, '9080');
  assert.equal(vhost.name, 'reviews.default.svc.cluster.local:9080');
  // A port no service uses has no listener: virtualOutbound's own passthrough chain applies.
  assert.equal(listenerForOriginalDestination(config, REVIEWS_VIP, 7777), undefined);
  const vo = config.listeners.get('virtualOutbound')!;
  assert.equal(vo.useOriginalDst, true);
  const passthrough = selectFilterChain(vo, {
    destinationIp: '93.184.216.34',
    destinationPort: 7777,
    sourceIp: '10.1.0.1',
    sourcePort: 1,
  });
  assert.equal(
    passthrough?.terminal.kind === 'tcp' && passthrough.terminal.tcp.clusters[0]?.name,
    'PassthroughCluster',
  );
});

test('end-user: jason goes to reviews v2 with the route timeout and retries of the VirtualService', () => {
  const { route } = outbound(REVIEWS_VIP, 9080, 'reviews:9080', '/reviews/0', { 'end-user': 'jason' });
  const action = forward(route);
  assert.equal(route!.name, 'jason');
  assert.deepEqual(
    action.clusters.map((c) => c.name),
    ['outbound|9080|v2|reviews.default.svc.cluster.local'],
  );
  assert.equal(action.timeoutMs, 500);
  const retry = action.retry!;
  assert.deepEqual([...retry.retryOn].sort(), ['connect-failure', 'gateway-error', 'retriable-status-codes']);
  assert.deepEqual([...retry.retriableStatusCodes], [503]);
  assert.equal(retry.numRetries, 3);
  assert.equal(retry.perTryTimeoutMs, 2000);
  assert.equal(retry.previousHosts, true);
  assert.equal(retry.hostSelectionRetryMaxAttempts, 5);
  assert.equal(route!.configPath, '/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews');
});

test('everyone else is split 50/50 between reviews v1 and v3 (measured over 10,000 seeded picks)', () => {
  for (const headers of [{}, { 'end-user': 'jason2' }, { 'end-user': 'Jason' }] as Record<string, string>[]) {
    const { route } = outbound(REVIEWS_VIP, 9080, 'reviews.default.svc.cluster.local', '/reviews/0', headers);
    assert.equal(route?.name, 'canary', JSON.stringify(headers));
  }
  const { route } = outbound(REVIEWS_VIP, 9080, 'reviews:9080', '/reviews/0');
  const action = forward(route);
  const random = seededRandom(7);
  const counts = new Map<string, number>();
  const n = 10_000;
  for (let i = 0; i < n; i++) {
    const name = pickWeightedCluster(action, random)!.name;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const v1 = counts.get('outbound|9080|v1|reviews.default.svc.cluster.local') ?? 0;
  const v3 = counts.get('outbound|9080|v3|reviews.default.svc.cluster.local') ?? 0;
  assert.equal(v1 + v3, n, `only v1 and v3: ${JSON.stringify([...counts])}`);
  assert.ok(Math.abs(v1 / n - 0.5) < 0.02, `v1 got ${v1} of ${n}`);
  // v3 answers carry x-canary (the destination's response header set).
  const v3Choice = action.clusters.find((c) => c.name.includes('|v3|'))!;
  assert.deepEqual(
    v3Choice.responseHeaders.add.map((m) => [m.key, m.value, m.action]),
    [['x-canary', 'true', 'overwrite']],
  );
});

test('ratings faults: a 7 s delay for jason, a 12.5% abort for test- users; the fault routes carry no retries', () => {
  const RATINGS = '10.96.0.4';
  const jason = outbound(RATINGS, 9080, 'ratings:9080', '/ratings/0', { 'end-user': 'jason' }).route!;
  assert.deepEqual(jason.fault, { delay: { fixedDelayMs: 7000, percentage: { fraction: 1 } } });
  assert.equal(forward(jason).retry, undefined);
  const tester = outbound(RATINGS, 9080, 'ratings', '/ratings/0', { 'end-user': 'test-42' }).route!;
  assert.deepEqual(tester.fault, { abort: { httpStatus: 500, percentage: { fraction: 0.125 } } });
  const other = outbound(RATINGS, 9080, 'ratings', '/ratings/0').route!;
  assert.equal(other.fault, undefined);
  assert.equal(forward(other).retry, undefined, 'retries: {attempts: 0} disables retries');
});

test('details: mirror half the traffic to v2, edit headers, and apply the CORS policy', () => {
  const { route } = outbound('10.96.0.2', 9080, 'details:9080', '/details/0');
  const action = forward(route);
  assert.deepEqual(action.mirrors, [
    { cluster: 'outbound|9080|v2|details.default.svc.cluster.local', fraction: 0.5 },
  ]);
  assert.deepEqual(
    route!.requestHeaders.add.map((m) => `${m.action} ${m.key}=${m.value}`),
    ['overwrite x-forwarded-by=trellis', 'append x-trace-tag=details'],
  );
  assert.deepEqual(route!.requestHeaders.remove, ['x-internal']);
  assert.deepEqual(route!.responseHeaders.remove, ['server']);
  const cors = route!.cors!;
  assert.equal(
    cors.allowOrigins.some((o) => o.test('https://app.example.org')),
    true,
  );
  assert.equal(
    cors.allowOrigins.some((o) => o.test('https://evil.example.org')),
    false,
  );
  assert.equal(cors.allowMethods, 'GET,POST');
  assert.equal(cors.maxAge, '86400');
  assert.equal(cors.allowCredentials, true);
});

test('an unknown host falls to the allow_any virtual host and the passthrough cluster', () => {
  const { vhost, route } = outbound(REVIEWS_VIP, 9080, 'unknown.example.com', '/');
  assert.equal(vhost.name, 'allow_any');
  assert.deepEqual(
    forward(route).clusters.map((c) => c.name),
    ['PassthroughCluster'],
  );
  assert.equal(forward(route).timeoutMs, 0);
});
