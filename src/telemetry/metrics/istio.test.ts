import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestRecord } from '../record.js';
import { parsePrometheusText } from '../store/promtext.js';
import { ENVOY_DEFAULT_BUCKETS, istioHistogramBuckets, parseHistogramBucketsAnnotation } from './buckets.js';
import { IstioMetrics } from './istio.js';
import { type IstioPeerFacts, istioHttpLabels, workloadFactsFromLabels } from './istio-labels.js';
import { MetricsRegistry } from './registry.js';

// Label lists transcribed from istio/proxy testdata/metric/*.yaml.tmpl (names in emitted order, values as
// the templates give them for the default configuration).
const CLIENT_REQUEST_TOTAL: [string, string][] = [
  ['reporter', 'source'],
  ['source_workload', 'productpage-v1'],
  ['source_canonical_service', 'productpage-v1'],
  ['source_canonical_revision', 'version-1'],
  ['source_workload_namespace', 'default'],
  ['source_principal', 'unknown'],
  ['source_app', 'productpage'],
  ['source_version', 'v1'],
  ['source_cluster', 'client-cluster'],
  ['destination_workload', 'ratings-v1'],
  ['destination_workload_namespace', 'default'],
  ['destination_principal', 'unknown'],
  ['destination_app', 'ratings'],
  ['destination_version', 'v1'],
  ['destination_service', 'server.default.svc.cluster.local'],
  ['destination_canonical_service', 'ratings'],
  ['destination_canonical_revision', 'version-1'],
  ['destination_service_name', 'server'],
  ['destination_service_namespace', 'default'],
  ['destination_cluster', 'server-cluster'],
  ['request_protocol', 'http'],
  ['response_code', '200'],
  ['grpc_response_status', ''],
  ['response_flags', '-'],
  ['connection_security_policy', 'unknown'],
];

// tcp_server_sent_bytes.yaml.tmpl (destination reporter, mTLS).
const TCP_SERVER_SENT_BYTES: [string, string][] = [
  ['reporter', 'destination'],
  ['source_workload', 'productpage-v1'],
  ['source_canonical_service', 'productpage-v1'],
  ['source_canonical_revision', 'version-1'],
  ['source_workload_namespace', 'default'],
  ['source_principal', 'spiffe://cluster.local/ns/default/sa/client'],
  ['source_app', 'productpage'],
  ['source_version', 'v1'],
  ['source_cluster', 'client-cluster'],
  ['destination_workload', 'ratings-v1'],
  ['destination_workload_namespace', 'default'],
  ['destination_principal', 'spiffe://cluster.local/ns/default/sa/server'],
  ['destination_app', 'ratings'],
  ['destination_version', 'v1'],
  ['destination_service', 'server.default.svc.cluster.local'],
  ['destination_canonical_service', 'ratings'],
  ['destination_canonical_revision', 'version-1'],
  ['destination_service_name', 'server'],
  ['destination_service_namespace', 'default'],
  ['destination_cluster', 'server-cluster'],
  ['request_protocol', 'tcp'],
  ['response_flags', '-'],
  ['connection_security_policy', 'mutual_tls'],
];

// client_request_messages.yaml.tmpl: peer labels only (the custom configurable_metric_a is dropped here).
const CLIENT_REQUEST_MESSAGES = CLIENT_REQUEST_TOTAL.slice(0, 20).map(([k, v]): [string, string] =>
  k === 'source_cluster' || k === 'destination_cluster' ? [k, 'test-cluster'] : [k, v],
);

const productpage = {
  workloadName: 'productpage-v1',
  namespace: 'default',
  app: 'productpage',
  version: 'v1',
  canonicalService: 'productpage-v1',
  canonicalRevision: 'version-1',
};
const ratings = {
  workloadName: 'ratings-v1',
  namespace: 'default',
  app: 'ratings',
  version: 'v1',
  canonicalService: 'ratings',
  canonicalRevision: 'version-1',
};

function ok(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    startTime: 0,
    durationMs: 7,
    responseCode: 200,
    responseFlags: '-',
    bytesReceived: 10,
    bytesSent: 300,
    ...overrides,
  };
}

function parsed(r: MetricsRegistry) {
  return parsePrometheusText(r.render()).samples;
}

test('client istio_requests_total has exactly the labels, order and values of istio/proxy client_request_total', () => {
  const registry = new MetricsRegistry();
  const m = new IstioMetrics({ registry });
  const facts: IstioPeerFacts = {
    reporter: 'source',
    local: { ...productpage, cluster: 'client-cluster' },
    peer: { ...ratings, cluster: 'server-cluster' },
    service: { host: 'server.default.svc.cluster.local', name: 'server' },
  };
  m.http(facts).record(ok());
  const line = registry
    .render()
    .split('\n')
    .find((l) => l.startsWith('istio_requests_total{'))!;
  const expected = CLIENT_REQUEST_TOTAL.map(([k, v]) => `${k}="${v}"`).join(',');
  assert.equal(line, `istio_requests_total{${expected}} 1`);
  // The three distributions carry the same label set, with Envoy's default buckets.
  const samples = parsed(registry);
  for (const name of ['istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes']) {
    const buckets = samples.filter((s) => s.name === `${name}_bucket`).map((s) => s.labels.le);
    assert.deepEqual(buckets, [...ENVOY_DEFAULT_BUCKETS.map(String), '+Inf'], name);
    const count = samples.find((s) => s.name === `${name}_count`)!;
    assert.deepEqual(
      Object.keys(count.labels),
      CLIENT_REQUEST_TOTAL.map(([k]) => k),
    );
  }
  const duration5 = samples.find(
    (s) => s.name === 'istio_request_duration_milliseconds_bucket' && s.labels.le === '5',
  )!;
  const duration10 = samples.find(
    (s) => s.name === 'istio_request_duration_milliseconds_bucket' && s.labels.le === '10',
  )!;
  assert.equal(duration5.value, 0);
  assert.equal(duration10.value, 1);
  assert.equal(samples.find((s) => s.name === 'istio_response_bytes_sum')!.value, 300);
});

test('server TCP metrics match tcp_server_sent_bytes: mTLS principals, namespace from the SAN, no code labels', () => {
  const registry = new MetricsRegistry();
  const m = new IstioMetrics({ registry });
  const tcp = m.tcp({
    reporter: 'destination',
    local: { ...ratings, cluster: 'server-cluster' },
    peer: { ...productpage, namespace: undefined, cluster: 'client-cluster' },
    peerPrincipal: 'spiffe://cluster.local/ns/default/sa/client',
    localPrincipal: 'spiffe://cluster.local/ns/default/sa/server',
    service: { host: 'server.default.svc.cluster.local', name: 'server' },
  });
  tcp.opened();
  tcp.bytes(120, 40);
  tcp.closed();
  const lines = registry.render().split('\n');
  const expected = TCP_SERVER_SENT_BYTES.map(([k, v]) => `${k}="${v}"`).join(',');
  assert.ok(lines.includes(`istio_tcp_sent_bytes_total{${expected}} 120`), lines.join('\n'));
  assert.ok(lines.includes(`istio_tcp_received_bytes_total{${expected}} 40`));
  assert.ok(lines.includes(`istio_tcp_connections_opened_total{${expected}} 1`));
  assert.ok(lines.includes(`istio_tcp_connections_closed_total{${expected}} 1`));
});

test('gRPC message counters carry only the peer labels (client_request_messages)', () => {
  const registry = new MetricsRegistry();
  const m = new IstioMetrics({ registry });
  const msgs = m.grpcMessages({
    reporter: 'source',
    local: { ...productpage, cluster: 'test-cluster' },
    peer: { ...ratings, cluster: 'test-cluster' },
    service: { host: 'server.default.svc.cluster.local', name: 'server' },
  });
  msgs.request.inc(3);
  msgs.response.inc(2);
  const expected = CLIENT_REQUEST_MESSAGES.map(([k, v]) => `${k}="${v}"`).join(',');
  const lines = registry.render().split('\n');
  assert.ok(lines.includes(`istio_request_messages_total{${expected}} 3`), lines.join('\n'));
  assert.ok(lines.includes(`istio_response_messages_total{${expected}} 2`));
});

test('unknown peers and missing facts default as istio_stats.cc does', () => {
  const registry = new MetricsRegistry();
  const m = new IstioMetrics({ registry });
  // Inbound request from a client without a sidecar, over plaintext.
  m.http({ reporter: 'destination', local: { ...ratings, cluster: 'Kubernetes' } }).record(
    ok({ responseCode: 503, responseFlags: 'UF' }),
  );
  const s = parsed(registry).find((x) => x.name === 'istio_requests_total')!;
  assert.equal(s.labels.source_workload, 'unknown');
  assert.equal(s.labels.source_canonical_revision, 'latest');
  assert.equal(s.labels.source_principal, 'unknown');
  assert.equal(s.labels.destination_service, 'ratings', 'no Host: falls back to the canonical service');
  assert.equal(s.labels.destination_service_namespace, 'default');
  assert.equal(s.labels.connection_security_policy, 'none');
  assert.equal(s.labels.response_code, '503');
  assert.equal(s.labels.response_flags, 'UF');
});

test('gRPC requests record protocol grpc and the grpc status; flags and codes get separate series', () => {
  const registry = new MetricsRegistry();
  const m = new IstioMetrics({ registry });
  const rec = m.http({
    reporter: 'source',
    local: productpage,
    peer: ratings,
    service: { host: 'r', name: 'r' },
  });
  rec.record(ok({ isGrpc: true, grpcStatus: 14 }));
  rec.record(ok());
  rec.record(ok());
  rec.record(ok({ responseCode: 503, responseFlags: 'UO' }));
  const totals = parsed(registry).filter((x) => x.name === 'istio_requests_total');
  const key = (x: (typeof totals)[0]) =>
    `${x.labels.request_protocol} ${x.labels.response_code} ${x.labels.grpc_response_status} ${x.labels.response_flags}=${x.value}`;
  assert.deepEqual(totals.map(key).sort(), ['grpc 200 14 -=1', 'http 200  -=2', 'http 503  UO=1']);
});

test('the statsHistogramBuckets annotation overrides the istiocustom buckets and rejects bad input', () => {
  const ann = {
    'sidecar.istio.io/statsHistogramBuckets':
      '{"istiocustom":[1,5,10,50,100,500,1000,5000,10000],"cluster_manager":[1,5]}',
  };
  assert.deepEqual(istioHistogramBuckets(ann), [1, 5, 10, 50, 100, 500, 1000, 5000, 10000]);
  assert.deepEqual(parseHistogramBucketsAnnotation(ann).get('cluster_manager'), [1, 5]);
  assert.equal(istioHistogramBuckets({}), ENVOY_DEFAULT_BUCKETS);
  assert.throws(
    () =>
      istioHistogramBuckets(
        { 'sidecar.istio.io/statsHistogramBuckets': '{"istiocustom":"x"}' },
        'default/ratings-1',
      ),
    /on default\/ratings-1: "istiocustom" must be an array/,
  );
  const registry = new MetricsRegistry();
  const m = new IstioMetrics({ registry, buckets: istioHistogramBuckets(ann) });
  m.http({ reporter: 'source', local: productpage }).record(ok());
  const les = parsed(registry)
    .filter((s) => s.name === 'istio_request_duration_milliseconds_bucket')
    .map((s) => s.labels.le);
  assert.deepEqual(les, ['1', '5', '10', '50', '100', '500', '1000', '5000', '10000', '+Inf']);
});

test('workload facts from pod labels follow the injector defaults for canonical service and revision', () => {
  assert.deepEqual(
    workloadFactsFromLabels({
      labels: { app: 'reviews', version: 'v2' },
      workloadName: 'reviews-v2',
      namespace: 'default',
    }),
    {
      workloadName: 'reviews-v2',
      namespace: 'default',
      app: 'reviews',
      version: 'v2',
      canonicalService: 'reviews',
      canonicalRevision: 'v2',
      cluster: 'Kubernetes',
    },
  );
  const bare = workloadFactsFromLabels({ labels: {}, workloadName: 'job', namespace: 'ns' });
  assert.equal(bare.canonicalService, 'job');
  assert.equal(bare.canonicalRevision, 'latest');
});

test('istioHttpLabels gives the same label set the recorder emits, as a record in emitted order', () => {
  const facts: IstioPeerFacts = {
    reporter: 'source',
    local: { ...productpage, cluster: 'client-cluster' },
    peer: { ...ratings, cluster: 'server-cluster' },
    service: { host: 'server.default.svc.cluster.local', name: 'server' },
  };
  const labels = istioHttpLabels(facts, { protocol: 'http', responseCode: 200 });
  assert.deepEqual(Object.entries(labels), CLIENT_REQUEST_TOTAL);
  const registry = new MetricsRegistry();
  new IstioMetrics({ registry }).http(facts).record(ok());
  assert.deepEqual(parsed(registry).find((s) => s.name === 'istio_requests_total')!.labels, labels);
});
