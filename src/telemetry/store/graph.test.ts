import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BookinfoTraffic } from '../testing/bookinfo-traffic.js';
import { graphToDot } from './graph.js';
import { LocalMetricsSource } from './local-source.js';
import { parsePrometheusText } from './promtext.js';
import { TelemetryQueries } from './queries.js';
import { TimeSeriesStore } from './tsdb.js';

const STEP = 5000;
const T0 = 1_700_000_000_000;

/** Two minutes of Bookinfo traffic scraped every 5 s into the embedded store. */
function scenario() {
  const traffic = new BookinfoTraffic();
  const store = new TimeSeriesStore({ resolutionMs: STEP });
  let t = T0;
  for (let i = 0; i <= 24; i++) {
    if (i > 0) traffic.advance(STEP / 1000);
    for (const s of traffic.sidecars) {
      for (const sample of parsePrometheusText(s.registry.render()).samples) {
        store.append(sample.name, { ...sample.labels, pod: s.pod, namespace: s.namespace }, t, sample.value);
      }
    }
    t += STEP;
  }
  return { queries: new TelemetryQueries(new LocalMetricsSource(store)), at: t - STEP };
}

const near = (actual: number | undefined, expected: number, what: string, tol = 0.01) =>
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) <= Math.abs(expected) * tol + 1e-9,
    `${what}: expected ${expected}, got ${actual}`,
  );

test('service golden signals: rates, 4xx/5xx split and p50/p90/p99 from the buckets', async () => {
  const { queries, at } = scenario();
  const byName = new Map((await queries.serviceSignals({ atMs: at })).map((s) => [s.name, s]));
  const details = byName.get('details')!;
  near(details.requestRate, 10, 'details rps');
  near(details.rate4xx, 1, 'details 4xx');
  near(details.errorRate, 0.1, 'details error rate');
  near(details.p50, 10, 'details p50');
  near(details.p90, 25, 'details p90');
  near(details.p99, 47.5, 'details p99');
  assert.equal(details.reporter, 'destination');
  const ratings = byName.get('ratings')!;
  near(ratings.requestRate, 8, 'ratings rps');
  near(ratings.rate5xx, 0.4, 'ratings 5xx');
  near(ratings.errorRate, 0.05, 'ratings error rate');
  near(ratings.p50, 100, 'ratings p50');
  near(ratings.p90, 250, 'ratings p90');
  near(ratings.p99, 475, 'ratings p99');
  const external = byName.get('httpbin.org')!;
  assert.equal(external.reporter, 'source', 'no destination sidecar: the source reporter fills in');
  near(external.requestRate, 10, 'httpbin rps');
  near(external.rate4xx, 2, 'httpbin 4xx');
  near(byName.get('reviews')!.requestRate, 10, 'reviews rps');
});

test('workload and edge signals split reviews by version and ratings by caller', async () => {
  const { queries, at } = scenario();
  const wl = new Map((await queries.workloadSignals({ atMs: at })).map((w) => [w.workload, w]));
  near(wl.get('reviews-v1')!.requestRate, 2, 'reviews-v1');
  near(wl.get('reviews-v2')!.requestRate, 4, 'reviews-v2');
  near(wl.get('reviews-v3')!.requestRate, 4, 'reviews-v3');
  assert.equal(wl.get('reviews-v3')!.version, 'v3');
  const edges = await queries.edgeSignals({ atMs: at });
  const v3ToRatings = edges.find(
    (e) => e.source.workload === 'reviews-v3' && e.destination.workload === 'ratings-v1',
  )!;
  near(v3ToRatings.requestRate, 4, 'reviews-v3 -> ratings');
  near(v3ToRatings.errorRate, 0.1, 'reviews-v3 -> ratings errors');
  const v2ToRatings = edges.find(
    (e) => e.source.workload === 'reviews-v2' && e.destination.workload === 'ratings-v1',
  )!;
  assert.equal(v2ToRatings.errorRate, 0);
});

test('the service graph has productpage->details, ->reviews v1/v2/v3, reviews v2/v3->ratings with rates and mTLS', async () => {
  const { queries, at } = scenario();
  const g = await queries.graph({ atMs: at });
  const edge = (from: string, to: string) => {
    const e = g.edges.find((x) => x.source === from && x.target === to);
    assert.ok(e, `edge ${from} -> ${to} in ${g.edges.map((x) => `${x.source}->${x.target}`).join(', ')}`);
    return e;
  };
  const pp = 'workload:default/productpage-v1';
  const rev = 'service:reviews.default.svc.cluster.local';
  const rat = 'service:ratings.default.svc.cluster.local';
  near(edge(pp, 'service:details.default.svc.cluster.local').requestRate, 10, 'pp -> details');
  near(
    edge('service:details.default.svc.cluster.local', 'workload:default/details-v1').errorRate,
    0.1,
    'details errors',
  );
  near(edge(pp, rev).requestRate, 10, 'pp -> reviews');
  near(edge(rev, 'workload:default/reviews-v1').requestRate, 2, 'reviews -> v1');
  near(edge(rev, 'workload:default/reviews-v2').requestRate, 4, 'reviews -> v2');
  near(edge(rev, 'workload:default/reviews-v3').requestRate, 4, 'reviews -> v3');
  near(edge('workload:default/reviews-v2', rat).requestRate, 4, 'v2 -> ratings');
  const v3 = edge('workload:default/reviews-v3', rat);
  near(v3.requestRate, 4, 'v3 -> ratings');
  near(v3.errorRate, 0.1, 'v3 -> ratings errors');
  near(v3.p99, 475, 'v3 -> ratings p99');
  near(edge(rat, 'workload:default/ratings-v1').requestRate, 8, 'ratings -> ratings-v1');
  assert.equal(edge(pp, rev).mtls, true);
  near(edge(pp, rev).mtlsPercent, 100, 'pp -> reviews mTLS share');
  assert.equal(edge(pp, 'service:details.default.svc.cluster.local').mtls, false);
  assert.equal(edge(pp, 'service:details.default.svc.cluster.local').protocol, 'http');
  const ext = edge(pp, 'service:httpbin.org');
  assert.equal(ext.reporter, 'source');
  assert.equal(ext.mtlsPercent, undefined);
  const pNode = g.nodes.find((n) => n.id === pp)!;
  assert.deepEqual(pNode, {
    id: pp,
    kind: 'workload',
    name: 'productpage-v1',
    namespace: 'default',
    app: 'productpage',
    version: 'v1',
  });
  assert.equal(g.nodes.filter((n) => n.kind === 'service').length, 4);

  const dot = graphToDot(g);
  assert.match(dot, /^digraph mesh \{/);
  assert.match(
    dot,
    /"workload:default\/reviews-v3" -> "service:ratings.default.svc.cluster.local" \[label="4.00 rps 10.0% err p99 475ms mTLS", color=red\];/,
  );
  assert.match(dot, /"workload:default\/productpage-v1" \[label="productpage v1\\ndefault", shape=box\];/);
});

test('chart series evaluate the same signals at each step', async () => {
  const { queries, at } = scenario();
  const series = await queries.signalSeries({
    scope: { service: 'ratings.default.svc.cluster.local' },
    startMs: at - 30_000,
    endMs: at,
    stepMs: 10_000,
  });
  assert.equal(series.timestamps.length, 4);
  assert.equal(series.reporter, 'destination');
  for (let i = 0; i < 4; i++) {
    near(series.requestRate[i], 8, `rate at step ${i}`);
    near(series.errorRate[i], 0.05, `errors at step ${i}`);
    near(series.p99[i] ?? undefined, 475, `p99 at step ${i}`);
  }
  const edge = await queries.signalSeries({
    scope: { sourceWorkload: 'productpage-v1', sourceNamespace: 'default', service: 'httpbin.org' },
    startMs: at - 10_000,
    endMs: at,
    stepMs: 10_000,
  });
  assert.equal(edge.reporter, 'source');
  near(edge.requestRate[1], 10, 'httpbin chart');
});
