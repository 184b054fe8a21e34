// Cluster and endpoint decoding on the DestinationRule goldens: pools, outliers, budgets, balancers, TLS.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transportSocketFor } from '../../../src/sidecar/config/index.js';
import { ENVOY_DEFAULT_THRESHOLDS } from '../../../src/sidecar/upstream/breaker/thresholds.js';
import { goldenConfig } from './goldens.js';

// DestinationRule traffic policies (test/golden/translate/destination-rules) as the upstream room will read them.
const config = goldenConfig('destination-rules/foo-client');
const cluster = (name: string) => {
  const c = config.clusters.get(name);
  assert.ok(c, `no cluster ${name}`);
  return c;
};

test('connection pool, outlier detection and retry budget reach the upstream room in its own types', () => {
  const c = cluster('outbound|8000||httpbin.foo.svc.cluster.local');
  assert.equal(c.type, 'EDS');
  assert.equal(c.edsServiceName, 'outbound|8000||httpbin.foo.svc.cluster.local');
  assert.equal(c.circuitBreakers.DEFAULT.maxConnections, 1);
  assert.equal(c.circuitBreakers.DEFAULT.maxPendingRequests, 1);
  assert.equal(c.circuitBreakers.DEFAULT.maxRetries, 3);
  // No HIGH thresholds configured: Envoy's defaults apply to HIGH priority routes.
  assert.deepEqual(c.circuitBreakers.HIGH, ENVOY_DEFAULT_THRESHOLDS);
  const od = c.outlierDetection!;
  assert.equal(od.consecutive5xx, 1);
  assert.equal(od.consecutiveGatewayFailure, 2);
  assert.equal(od.enforcingConsecutiveGatewayFailure, 100);
  assert.equal(od.intervalMs, 1000);
  assert.equal(od.baseEjectionTimeMs, 180_000);
  assert.equal(od.maxEjectionPercent, 100);
  assert.equal(od.alwaysEjectOneHost, true);
  assert.equal(c.retryBudget.percent, 0.25);
  assert.equal(c.retryBudget.minRetriesPerSecond, 5);
  assert.equal(c.istio.services[0]?.host, 'httpbin.foo.svc.cluster.local');
  assert.match(c.istio.config ?? '', /destination-rule\/httpbin$/);
  // A cluster whose rule sets no budget gets the default one.
  assert.equal(cluster('outbound|5001||helloworld.sample.svc.cluster.local').retryBudget.percent, 0.2);
});

test('load balancer settings per subset: ring hash, maglev, least request', () => {
  assert.equal(cluster('outbound|8000|v1|httpbin.foo.svc.cluster.local').lb.policy.type, 'RING_HASH');
  const v2 = cluster('outbound|8000|v2|httpbin.foo.svc.cluster.local');
  assert.equal(v2.lb.policy.type, 'MAGLEV');
  assert.equal(v2.istio.subset, 'v2');
  assert.equal(cluster('outbound|5001||helloworld.sample.svc.cluster.local').lb.policy.type, 'LEAST_REQUEST');
  assert.equal(cluster('PassthroughCluster').lb.policy.type, 'ORIGINAL_DST');
});

test('auto mTLS: endpoints labelled tlsMode istio get the mesh TLS socket with secure naming, others plaintext', () => {
  const c = cluster('outbound|8000||httpbin.foo.svc.cluster.local');
  const mesh = transportSocketFor(c, { 'envoy.transport_socket_match': { tlsMode: 'istio' } });
  assert.equal(mesh.name, 'tlsMode-istio');
  assert.deepEqual(mesh.tls?.spiffeIds, ['spiffe://cluster.local/ns/foo/sa/httpbin']);
  assert.equal(mesh.tls?.certificateSecret, 'default');
  assert.equal(mesh.tls?.validationSecret, 'ROOTCA');
  assert.equal(mesh.tls?.sni, 'outbound_.8000_._.httpbin.foo.svc.cluster.local');
  assert.equal(mesh.tls?.minimumProtocol, 'TLSv1_3');
  assert.equal(mesh.tls?.insecureSkipVerify, false);
  assert.equal(transportSocketFor(c, {}).tls, undefined);
  assert.equal(
    transportSocketFor(c, { 'envoy.transport_socket_match': { tlsMode: 'disabled' } }).tls,
    undefined,
  );
});

test('TLS origination: MUTUAL with files, SIMPLE with a CA file and DNS SAN, and its SNI', () => {
  const mutual = transportSocketFor(cluster('outbound|80||cache.foo.svc.cluster.local'), undefined).tls!;
  assert.deepEqual(mutual.certificateFile, {
    certChain: '/etc/certs/client.pem',
    privateKey: '/etc/certs/key.pem',
  });
  assert.equal(mutual.trustedCaFile, '/etc/certs/ca.pem');
  const simple = transportSocketFor(cluster('outbound|80||status.foo.svc.cluster.local'), undefined).tls!;
  assert.equal(simple.sni, 'cache.example.com');
  assert.equal(simple.certificateFile, undefined);
  assert.deepEqual(
    simple.subjectAltNames.map((s) => [s.type, s.match.value]),
    [['DNS', 'cache.example.com']],
  );
  assert.equal(simple.subjectAltNames[0]!.match.test('cache.example.com'), true);
  assert.deepEqual(simple.spiffeIds, []);
});

test('static clusters carry their endpoints; EDS sets keep localities, priorities and transport labels', () => {
  const inbound = cluster('inbound|8080||');
  assert.equal(inbound.type, 'STATIC');
  assert.deepEqual(
    inbound.inlineEndpoints?.hosts.map((h) => `${h.address}:${h.port}`),
    ['127.0.0.1:8080'],
  );
  assert.deepEqual(cluster('BlackHoleCluster').inlineEndpoints?.hosts, []);
  const sleep = goldenConfig('destination-rules/sleep-region1-zone1');
  const hw = sleep.endpoints.get('outbound|5000||helloworld.sample.svc.cluster.local')!;
  assert.deepEqual(
    hw.hosts.map((h) => `${h.locality?.region}/${h.locality?.zone} p${h.priority}`),
    ['region1/zone1 p0', 'region1/zone2 p1', 'region2/zone3 p2', 'region3/zone4 p3'].slice(
      0,
      hw.hosts.length,
    ),
  );
  assert.equal(hw.overprovisioningFactor, 140);
  assert.deepEqual(hw.hosts[0]!.metadata?.['envoy.transport_socket_match'], { tlsMode: 'istio' });
});
