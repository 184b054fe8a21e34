import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IstioMetrics } from '../metrics/istio.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { parsePrometheusText } from '../store/promtext.js';
import { handleStatsRequest, renderStatsPrometheus, renderStatsText } from './render.js';
import { StatsStore } from './store.js';

const REVIEWS = 'outbound|9080||reviews.default.svc.cluster.local';

function circuitBreakingScenario(): StatsStore {
  const store = new StatsStore();
  const c = store.cluster('outbound|8000||httpbin.default.svc.cluster.local');
  for (let i = 0; i < 29; i++) c.upstream_rq_pending_total.inc();
  for (let i = 0; i < 21; i++) c.upstream_rq_pending_overflow.inc();
  const r = store.cluster(REVIEWS);
  for (const code of [200, 200, 200, 503, 404]) {
    r.upstream_rq_total.inc();
    r.responseCode(code);
  }
  r.upstream_cx_active.set(2);
  r.outlier_detection_ejections_active.set(1);
  r.outlier_detection_ejections_enforced_total.inc();
  const h = store.httpConnManager('outbound_0.0.0.0_9080');
  h.downstream_rq_total.inc(3);
  h.responseCode(200);
  h.responseCode(200);
  h.responseCode(503);
  store.listener('0.0.0.0_15006').downstream_cx_total.inc();
  store.server().live.set(1);
  return store;
}

test('stats text matches Envoy names, e.g. the circuit-breaking task output', () => {
  const store = circuitBreakingScenario();
  const text = renderStatsText(store, { filter: /httpbin.*pending/ });
  assert.equal(
    text,
    'cluster.outbound|8000||httpbin.default.svc.cluster.local.upstream_rq_pending_active: 0\n' +
      'cluster.outbound|8000||httpbin.default.svc.cluster.local.upstream_rq_pending_overflow: 21\n' +
      'cluster.outbound|8000||httpbin.default.svc.cluster.local.upstream_rq_pending_total: 29\n',
  );
  const all = renderStatsText(store);
  assert.match(all, new RegExp(`^cluster\\.${REVIEWS.replace(/\|/g, '\\|')}\\.upstream_rq_2xx: 3$`, 'm'));
  assert.match(all, /\.upstream_rq_503: 1$/m);
  assert.match(all, /\.upstream_rq_5xx: 1$/m);
  assert.match(all, /\.upstream_rq_4xx: 1$/m);
  assert.match(all, /\.outlier_detection\.ejections_active: 1$/m);
  assert.match(all, /^http\.outbound_0\.0\.0\.0_9080\.downstream_rq_2xx: 2$/m);
  assert.match(all, /^listener\.0\.0\.0\.0_15006\.downstream_cx_total: 1$/m);
  assert.match(all, /^server\.live: 1$/m);
  assert.doesNotMatch(all, /downstream_rq_200/, 'the HCM counts classes only');
});

test('prometheus form uses Envoy tag extraction: cluster name, response code and class as labels', () => {
  const text = renderStatsPrometheus(circuitBreakingScenario());
  const lines = text.split('\n');
  assert.ok(lines.includes(`envoy_cluster_upstream_rq_total{envoy_cluster_name="${REVIEWS}"} 5`));
  assert.ok(
    lines.includes(
      `envoy_cluster_upstream_rq_xx{envoy_response_code_class="2",envoy_cluster_name="${REVIEWS}"} 3`,
    ),
  );
  assert.ok(
    lines.includes(`envoy_cluster_upstream_rq{envoy_response_code="503",envoy_cluster_name="${REVIEWS}"} 1`),
  );
  assert.ok(
    lines.includes(`envoy_cluster_outlier_detection_ejections_active{envoy_cluster_name="${REVIEWS}"} 1`),
  );
  assert.ok(
    lines.includes(
      'envoy_http_downstream_rq_xx{envoy_response_code_class="5",envoy_http_conn_manager_prefix="outbound_0.0.0.0_9080"} 1',
    ),
  );
  assert.ok(lines.includes('envoy_listener_downstream_cx_total{envoy_listener_address="0.0.0.0_15006"} 1'));
  assert.ok(lines.includes('envoy_server_live 1'));
  // One TYPE line per family even when several clusters share it, and the whole text parses.
  assert.equal(lines.filter((l) => l === '# TYPE envoy_cluster_upstream_rq_total counter').length, 1);
  const parsed = parsePrometheusText(text);
  assert.equal(parsed.types.get('envoy_cluster_upstream_cx_active'), 'gauge');
});

test('the admin handler serves text, json, filter, usedonly and prometheus with istio_* metrics first', () => {
  const store = circuitBreakingScenario();
  const json = JSON.parse(
    handleStatsRequest(store, '/stats?format=json&filter=reviews.*ejections_enforced').body,
  );
  assert.deepEqual(json, {
    stats: [{ name: `cluster.${REVIEWS}.outlier_detection.ejections_enforced_total`, value: 1 }],
  });
  const used = handleStatsRequest(store, '/stats?usedonly&filter=^server').body;
  assert.equal(used, 'server.live: 1\n');
  const registry = new MetricsRegistry();
  new IstioMetrics({ registry }).http({ reporter: 'source', local: {} }).record({
    startTime: 0,
    durationMs: 1,
    responseCode: 200,
    responseFlags: '-',
    bytesReceived: 0,
    bytesSent: 0,
  });
  const prom = handleStatsRequest(store, '/stats/prometheus', registry.render());
  assert.equal(prom.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  const samples = parsePrometheusText(prom.body).samples;
  assert.ok(samples.some((s) => s.name === 'istio_requests_total'));
  assert.ok(samples.some((s) => s.name === 'envoy_cluster_upstream_rq_total'));
  const bad = handleStatsRequest(store, '/stats?filter=(');
  assert.equal(bad.status, 400);
  assert.match(bad.body, /stats filter "\(" is not a valid regex/);
});

test('removing a cluster drops its stats and a re-added cluster starts from zero', () => {
  const store = circuitBreakingScenario();
  store.removeCluster(REVIEWS);
  assert.doesNotMatch(renderStatsText(store), /reviews/);
  assert.equal(store.cluster(REVIEWS).upstream_rq_total.value, 0);
});
