import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createApiServer } from '../../src/controlplane/api/server.js';
import type {
  ApplyResult,
  ConfigItem,
  ConfigListResponse,
  EdgesResponse,
  ErrorBody,
  GraphResponse,
  ProcessesResponse,
  ProxyListResponse,
  ProxyStatus,
  RequestsResponse,
  SeriesResponse,
  ServicesResponse,
  StatusResponse,
  TraceResponse,
  TraceSearchResponse,
  WorkloadsResponse,
} from '../../src/controlplane/api/types.js';
import { otlpJsonEncoder, zipkinJsonEncoder } from '../../src/telemetry/trace/encode.js';
import type { FinishedSpan } from '../../src/telemetry/trace/span.js';
import {
  CONFIG_ERROR_MESSAGE,
  type DashboardFixture,
  RDS_NACK,
  startDashboardFixture,
  T_END,
} from './fixture.js';
import { getJson, raw, SseReader, sendJson } from './http-client.js';

const near = (actual: number | undefined | null, expected: number, what: string, tol = 0.02) =>
  assert.ok(
    actual !== undefined && actual !== null && Math.abs(actual - expected) <= Math.abs(expected) * tol + 1e-9,
    `${what}: expected ${expected}, got ${actual}`,
  );

let fx: DashboardFixture;
let assets: string;

before(async () => {
  assets = mkdtempSync(join(tmpdir(), 'trellis-assets-'));
  mkdirSync(join(assets, 'assets'));
  writeFileSync(join(assets, 'index.html'), '<!doctype html><title>Trellis</title><div id="app"></div>');
  writeFileSync(
    join(assets, 'assets', 'index-3f9a1c.js'),
    `console.log(${JSON.stringify('x'.repeat(5000))});`,
  );
  // A trailing slash, as the default assets path has.
  fx = await startDashboardFixture({ assetsDir: `${assets}/` });
});
after(async () => {
  await fx.close();
  rmSync(assets, { recursive: true, force: true });
});

describe('status, config and proxies', () => {
  test('status summarises the mesh, config messages, proxy sync and stored telemetry', async () => {
    const { status, body } = await getJson<StatusResponse>(`${fx.url}/api/v1/status`);
    assert.equal(status, 200);
    assert.equal(body.mesh?.mesh, 'bookinfo-demo');
    assert.equal(body.mesh?.pods.length, 6);
    assert.equal(body.controlPlane.now, T_END);
    assert.deepEqual(body.config, { resources: 6, errors: 1, warnings: 1, info: 0 });
    assert.deepEqual(body.proxies, { total: 6, synced: 5, stale: 1, nacked: 1 });
    assert.equal(body.telemetry.traces, 30);
    assert.ok((body.telemetry.series ?? 0) > 100, 'the embedded store holds the scraped series');
  });

  test('config lists every resource with its messages and how many proxies accepted it; kinds by any name', async () => {
    const { body } = await getJson<ConfigListResponse>(`${fx.url}/api/v1/config?kind=vs`);
    assert.deepEqual(
      body.items.map((i) => `${i.kind}/${i.name}`),
      ['VirtualService/ratings', 'VirtualService/reviews'],
    );
    const ratings = body.items.find((i) => i.name === 'ratings')!;
    assert.deepEqual(ratings.messages, [{ level: 'Error', code: 'IST0101', message: CONFIG_ERROR_MESSAGE }]);
    assert.deepEqual(ratings.appliedTo, { total: 6, acked: 5, nacked: 1 });
    assert.deepEqual(body.counts, { resources: 2, errors: 1, warnings: 0, info: 0 });
    const plural = await getJson<ConfigListResponse>(`${fx.url}/api/v1/config?kind=destinationrules`);
    assert.equal(plural.body.items.length, 2);
    const rootNs = await getJson<ConfigListResponse>(`${fx.url}/api/v1/config?namespace=istio-system`);
    assert.deepEqual(
      rootNs.body.items.map((i) => i.kind),
      ['PeerAuthentication'],
    );
  });

  test('config that applies to a service or a workload: hosts by Istio name resolution, policies by selector', async () => {
    const names = (r: ConfigListResponse) => r.items.map((i) => `${i.kind} ${i.namespace}/${i.name}`);
    const svc = await getJson<ConfigListResponse>(
      `${fx.url}/api/v1/config?service=ratings.default.svc.cluster.local`,
    );
    assert.deepEqual(names(svc.body).sort(), [
      'AuthorizationPolicy default/ratings-viewer',
      'PeerAuthentication istio-system/default',
      'VirtualService default/ratings',
    ]);
    const details = await getJson<ConfigListResponse>(
      `${fx.url}/api/v1/config?service=details.default.svc.cluster.local`,
    );
    assert.ok(names(details.body).includes('DestinationRule default/details'), 'FQDN host matches');
    const wl = await getJson<ConfigListResponse>(
      `${fx.url}/api/v1/config?workload=default/reviews-v3&service=reviews.default.svc.cluster.local`,
    );
    assert.deepEqual(names(wl.body).sort(), [
      'DestinationRule default/reviews',
      'PeerAuthentication istio-system/default',
      'VirtualService default/reviews',
    ]);
  });

  test('one resource by id; an unknown id is a 404 that names it', async () => {
    const ok = await getJson<ConfigItem>(`${fx.url}/api/v1/config/VirtualService/default/ratings`);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.source?.file, 'samples/bookinfo/virtual-service-ratings.yaml');
    const missing = await getJson<ErrorBody>(`${fx.url}/api/v1/config/vs/default/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'API_NOT_FOUND');
    assert.match(missing.body.error.message, /VirtualService default\/nope not found/);
  });

  test('apply takes a YAML batch; a bad batch is a 400 with each validation message, and nothing is applied', async () => {
    const good = [
      'apiVersion: networking.istio.io/v1',
      'kind: VirtualService',
      'metadata: {name: details, namespace: default}',
      'spec: {hosts: [details], http: [{route: [{destination: {host: details}}]}]}',
      '---',
      'apiVersion: networking.istio.io/v1',
      'kind: DestinationRule',
      'metadata: {name: productpage}',
      'spec: {host: productpage}',
    ].join('\n');
    const ok = await sendJson<{ result: ApplyResult }>(`${fx.url}/api/v1/config`, 'POST', good);
    assert.equal(ok.status, 200);
    assert.deepEqual(
      ok.body.result.resources.map((r) => `${r.action} ${r.kind}/${r.name}`),
      ['created VirtualService/details', 'created DestinationRule/productpage'],
    );
    const bad = [
      'apiVersion: networking.istio.io/v1',
      'kind: DestinationRule',
      'metadata: {name: good-one}',
      'spec: {host: ratings}',
      '---',
      'apiVersion: networking.istio.io/v1',
      'kind: VirtualService',
      'metadata: {name: broken}',
      'spec: {http: []}',
    ].join('\n');
    const rejected = await sendJson<ErrorBody>(`${fx.url}/api/v1/config`, 'POST', bad);
    assert.equal(rejected.status, 400);
    assert.equal(rejected.body.error.code, 'CONFIG_INVALID');
    assert.equal(rejected.body.error.messages?.length, 1);
    const m = rejected.body.error.messages![0]!;
    assert.match(m.message, /VirtualService default\/broken: spec.hosts must list at least one host/);
    assert.deepEqual(m.resource, { kind: 'VirtualService', namespace: 'default', name: 'broken' });
    assert.equal(m.source?.line, 6, 'the message points at the document in the batch');
    const after = await getJson<ConfigListResponse>(`${fx.url}/api/v1/config?kind=DestinationRule`);
    assert.ok(!after.body.items.some((i) => i.name === 'good-one'), 'the batch is atomic');

    const json = await sendJson<{ result: ApplyResult }>(
      `${fx.url}/api/v1/config`,
      'POST',
      JSON.stringify({
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'details' },
        spec: { host: 'details' },
      }),
      { 'content-type': 'application/json' },
    );
    assert.equal(json.body.result.resources[0]?.action, 'configured');
    const empty = await sendJson<ErrorBody>(`${fx.url}/api/v1/config`, 'POST', '  \n');
    assert.equal(empty.status, 400);
    assert.match(empty.body.error.message, /empty body/);
  });

  test('delete by body and by id; deleting what is not there is a 404', async () => {
    const doc = 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: doomed}\n';
    const vs =
      'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: doomed}\nspec: {hosts: [x]}\n';
    assert.equal(
      (await sendJson(`${fx.url}/api/v1/config`, 'POST', `${doc}spec: {host: x}\n---\n${vs}`)).status,
      200,
    );
    const del = await sendJson<{ result: ApplyResult }>(`${fx.url}/api/v1/config`, 'DELETE', doc);
    assert.equal(del.status, 200);
    assert.equal(del.body.result.resources[0]?.action, 'deleted');
    const again = await sendJson<ErrorBody>(`${fx.url}/api/v1/config`, 'DELETE', doc);
    assert.equal(again.status, 404);
    assert.match(again.body.error.message, /DestinationRule default\/doomed not found/);
    const byId = await fetch(`${fx.url}/api/v1/config/VirtualService/default/doomed`, { method: 'DELETE' });
    assert.equal(byId.status, 200, await byId.clone().text());
    assert.equal((await getJson(`${fx.url}/api/v1/config/VirtualService/default/doomed`)).status, 404);
  });

  test('a body over the limit is a 413; a page on another origin cannot change config', async () => {
    const big = await raw(`${fx.url}/api/v1/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: Buffer.alloc(4 * 1024 * 1024 + 1, 0x20),
    });
    assert.equal(big.status, 413);
    const doc = 'apiVersion: v1\nkind: DestinationRule\nmetadata: {name: x}\nspec: {host: x}\n';
    const port = new URL(fx.url).port;
    const cross = await raw(`${fx.url}/api/v1/config`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
      body: doc,
    });
    assert.equal(cross.status, 403);
    assert.match((JSON.parse(cross.text) as ErrorBody).error.message, /origin http:\/\/evil.example/);
    // DNS rebinding: the attacker's name now points at us, so Origin and Host agree, but the name is not ours.
    const rebound = await raw(`${fx.url}/api/v1/config`, {
      method: 'POST',
      headers: { origin: `http://evil.example:${port}`, host: `evil.example:${port}` },
      body: doc,
    });
    assert.equal(rebound.status, 403);
    const own = await raw(`${fx.url}/api/v1/config`, {
      method: 'POST',
      headers: { origin: fx.url, 'content-type': 'application/yaml' },
      body: doc,
    });
    assert.equal(own.status, 200, own.text);
  });

  test('proxies with per-type versions, sync state and the last rejection; unknown proxy is a 404', async () => {
    const { body } = await getJson<ProxyListResponse>(`${fx.url}/api/v1/proxies`);
    assert.equal(body.proxies.length, 6);
    assert.deepEqual(body.counts, { total: 6, synced: 5, stale: 1, nacked: 1 });
    const v3 = body.proxies.find((p) => p.workload === 'reviews-v3')!;
    assert.equal(v3.xds.RDS?.state, 'STALE');
    assert.equal(v3.xds.RDS?.lastNack?.message, RDS_NACK);
    const one = await getJson<ProxyStatus>(`${fx.url}/api/v1/proxies/${encodeURIComponent(v3.id)}`);
    assert.equal(one.body.pod, 'reviews-v3-5e6f');
    const byPod = await getJson<ProxyStatus>(`${fx.url}/api/v1/proxies/default%2Freviews-v3-5e6f`);
    assert.equal(byPod.body.id, v3.id);
    const missing = await getJson<ErrorBody>(`${fx.url}/api/v1/proxies/sidecar~1.2.3.4~gone.default~x`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.error.message, /gone/);
  });
});

describe('telemetry and graph', () => {
  test('services, workloads and edges carry Bookinfo rates, 4xx/5xx apart and latency quantiles', async () => {
    const s = await getJson<ServicesResponse>(`${fx.url}/api/v1/telemetry/services?window=1m`);
    assert.equal(s.body.atMs, T_END);
    const svc = new Map(s.body.services.map((x) => [x.name, x]));
    near(svc.get('details')?.requestRate, 10, 'details rps');
    near(svc.get('details')?.rate4xx, 1, 'details 4xx');
    near(svc.get('ratings')?.rate5xx, 0.4, 'ratings 5xx');
    near(svc.get('ratings')?.p99, 475, 'ratings p99');
    assert.equal(svc.get('httpbin.org')?.reporter, 'source');
    const w = await getJson<WorkloadsResponse>(`${fx.url}/api/v1/telemetry/workloads?window=2m`);
    near(w.body.workloads.find((x) => x.workload === 'reviews-v2')?.requestRate, 4, 'reviews-v2 rps');
    const e = await getJson<EdgesResponse>(`${fx.url}/api/v1/telemetry/edges`);
    const v3 = e.body.edges.find(
      (x) => x.source.workload === 'reviews-v3' && x.destination.workload === 'ratings-v1',
    );
    near(v3?.errorRate, 0.1, 'reviews-v3 -> ratings error rate');
    const bad = await getJson<ErrorBody>(`${fx.url}/api/v1/telemetry/services?window=soon`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /window="soon" is not a duration/);
  });

  test('series: rate, 4xx, 5xx and p50/p90/p99 over time for a service, a workload and an edge', async () => {
    const { body } = await getJson<SeriesResponse>(
      `${fx.url}/api/v1/telemetry/series?scope=service:ratings.default.svc.cluster.local&start=-10m&step=30s`,
    );
    assert.equal(body.stepMs, 30_000);
    assert.equal(body.timestamps.length, 21);
    assert.equal(body.endMs, T_END, 'both ends align to the step');
    assert.equal(body.windowMs, 60_000);
    const last = body.timestamps.length - 1;
    near(body.requestRate[last], 8, 'ratings rps at the end');
    near(body.rate5xx[last], 0.4, 'ratings 5xx at the end');
    assert.equal(body.rate4xx[last], 0);
    near(body.p50[last], 100, 'p50');
    near(body.p90[last], 250, 'p90');
    near(body.p99[last], 475, 'p99');
    assert.equal(body.p99[0], null, 'no traffic in the window before the first scrape');
    const wl = await getJson<SeriesResponse>(
      `${fx.url}/api/v1/telemetry/series?scope=workload:default/details-v1&start=-5m`,
    );
    assert.equal(wl.body.stepMs, 5000, 'default step: about 120 points of a round size');
    near(wl.body.rate4xx.at(-1), 1, 'details 4xx');
    const edge = await getJson<SeriesResponse>(
      `${fx.url}/api/v1/telemetry/series?scope=${encodeURIComponent('edge:default/reviews-v2->ratings.default.svc.cluster.local')}&start=-2m&step=1m`,
    );
    near(edge.body.requestRate.at(-1), 4, 'reviews-v2 -> ratings rps');
    assert.equal(edge.body.rate5xx.at(-1), 0);
    for (const [query, pattern] of [
      ['scope=pod:x', /scope="pod:x" must be service:<host>/],
      ['scope=service:x&start=-1h&step=1s', /3601 points requested/],
      ['scope=service:x&start=tomorrow', /start="tomorrow" is not a time/],
      ['scope=service:x&start=-1m&end=-2m', /must be before end/],
    ] as const) {
      const r = await getJson<ErrorBody>(`${fx.url}/api/v1/telemetry/series?${query}`);
      assert.equal(r.status, 400, query);
      assert.match(r.body.error.message, pattern);
    }
  });

  test('processes: CPU and memory per pod and container, now and over time', async () => {
    const { body } = await getJson<ProcessesResponse>(
      `${fx.url}/api/v1/telemetry/processes?start=-10m&step=1m`,
    );
    assert.equal(body.processes.length, 12);
    assert.equal(body.timestamps.length, 11);
    const proxy = body.processes.find((p) => p.pod === 'reviews-v1-1a2b' && p.container === 'istio-proxy')!;
    near(proxy.cpuCores, 0.02, 'sidecar CPU', 0.1);
    assert.ok(proxy.rssBytes > 50e6 && proxy.rssBytes < 80e6);
    assert.ok(
      proxy.cpuSeries.slice(1).every((v) => v !== null && v > 0.01),
      'CPU has a value at every step',
    );
    assert.ok(
      proxy.rssSeries.every((v) => v !== null && v > 50e6),
      'memory has a value at every step',
    );
    const app = body.processes.find((p) => p.pod === 'reviews-v1-1a2b' && p.container === 'reviews')!;
    near(app.cpuCores, 0.04, 'app CPU', 0.1);
    const one = await getJson<ProcessesResponse>(
      `${fx.url}/api/v1/telemetry/processes?pod=ratings-v1-7a8b&pod=details-v1-5c8d`,
    );
    assert.deepEqual(
      one.body.processes.map((p) => `${p.pod}/${p.container}`),
      [
        'details-v1-5c8d/details',
        'details-v1-5c8d/istio-proxy',
        'ratings-v1-7a8b/istio-proxy',
        'ratings-v1-7a8b/ratings',
      ],
    );
    const bad = await getJson<ErrorBody>(`${fx.url}/api/v1/telemetry/processes?pod=a|b`);
    assert.equal(bad.status, 400);
  });

  test('graph by workload: Bookinfo edges with rates, health and mTLS', async () => {
    const { body } = await getJson<GraphResponse>(`${fx.url}/api/v1/graph?by=workload`);
    const edge = (s: string, t: string) => body.edges.find((e) => e.source === s && e.target === t);
    const reviews = 'service:reviews.default.svc.cluster.local';
    const ratings = 'service:ratings.default.svc.cluster.local';
    for (const v of ['v1', 'v2', 'v3'])
      assert.ok(edge(reviews, `workload:default/reviews-${v}`), `reviews -> ${v}`);
    near(edge('workload:default/productpage-v1', reviews)?.requestRate, 10, 'productpage -> reviews');
    assert.equal(edge('workload:default/productpage-v1', reviews)?.mtls, true);
    assert.equal(
      edge('workload:default/productpage-v1', 'service:details.default.svc.cluster.local')?.mtls,
      false,
    );
    assert.equal(edge('workload:default/reviews-v3', ratings)?.health, 'degraded');
    assert.equal(edge('workload:default/reviews-v2', ratings)?.health, 'healthy');
    assert.equal(body.nodes.find((n) => n.id === ratings)?.health, 'degraded');
    assert.equal(body.nodes.find((n) => n.id === 'workload:default/productpage-v1')?.health, 'idle');
  });

  test('graph by service folds workloads into their services; dot renders the same graph', async () => {
    const { body } = await getJson<GraphResponse>(`${fx.url}/api/v1/graph?by=service`);
    const ids = body.edges.map((e) => e.id).sort();
    assert.deepEqual(ids, [
      'app:default/productpage->service:details.default.svc.cluster.local',
      'app:default/productpage->service:httpbin.org',
      'app:default/productpage->service:reviews.default.svc.cluster.local',
      'service:reviews.default.svc.cluster.local->service:ratings.default.svc.cluster.local',
    ]);
    const rr = body.edges.find((e) => e.target === 'service:ratings.default.svc.cluster.local')!;
    near(rr.requestRate, 8, 'reviews -> ratings, both versions');
    near(rr.rate5xx, 0.4, 'its 5xx');
    assert.deepEqual(
      body.nodes.find((n) => n.id === 'service:reviews.default.svc.cluster.local')?.workloads?.sort(),
      ['reviews-v1', 'reviews-v2', 'reviews-v3'],
    );
    const dot = await raw(`${fx.url}/api/v1/graph?by=service&format=dot`);
    assert.match(String(dot.headers['content-type']), /text\/vnd.graphviz/);
    assert.match(dot.text, /^digraph mesh \{/);
    assert.match(
      dot.text,
      /"app:default\/productpage" -> "service:reviews.default.svc.cluster.local" \[label="10.00 rps 0.0% err p99 \d+ms mTLS"/,
    );
    const bad = await getJson<ErrorBody>(`${fx.url}/api/v1/graph?by=pod`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /by="pod" must be one of service, workload/);
  });
});

describe('traces and requests', () => {
  test('search by service, minimum duration, errors, time range and tags', async () => {
    const all = await getJson<TraceSearchResponse>(`${fx.url}/api/v1/traces`);
    assert.equal(all.body.traces.length, 20, 'default limit');
    assert.ok(all.body.traces[0]!.startMs > all.body.traces[1]!.startMs, 'newest first');
    assert.deepEqual(all.body.services, [
      'details.default',
      'productpage.default',
      'ratings.default',
      'reviews.default',
    ]);
    const errors = await getJson<TraceSearchResponse>(`${fx.url}/api/v1/traces?errorsOnly=true&limit=100`);
    assert.equal(errors.body.traces.length, 6);
    const slow = await getJson<TraceSearchResponse>(`${fx.url}/api/v1/traces?minDuration=80ms&limit=100`);
    assert.deepEqual(
      slow.body.traces.map((t) => t.traceId).sort(),
      errors.body.traces.map((t) => t.traceId).sort(),
      'only the failing traces waited 90 ms for ratings',
    );
    const ratings = await getJson<TraceSearchResponse>(
      `${fx.url}/api/v1/traces?service=ratings.default&limit=100`,
    );
    assert.equal(ratings.body.traces.length, 22, 'the 8 traces through reviews v1 never reach ratings');
    const tagged = await getJson<TraceSearchResponse>(
      `${fx.url}/api/v1/traces?tag=http.status_code:500&limit=100`,
    );
    assert.equal(tagged.body.traces.length, 6);
    const window = await getJson<TraceSearchResponse>(`${fx.url}/api/v1/traces?start=-3m&limit=100`);
    assert.ok(window.body.traces.length > 0 && window.body.traces.length < 30);
    assert.ok(window.body.traces.every((t) => t.startMs >= T_END - 180_000));
    const bad = await getJson<ErrorBody>(`${fx.url}/api/v1/traces?tag=nocolon`);
    assert.equal(bad.status, 400);
  });

  test('one trace with every span; download; bad and unknown ids', async () => {
    const errors = await getJson<TraceSearchResponse>(`${fx.url}/api/v1/traces?errorsOnly=1&limit=1`);
    const id = errors.body.traces[0]!.traceId;
    const { body, headers } = await getJson<TraceResponse>(`${fx.url}/api/v1/traces/${id}`);
    assert.equal(body.spans.length, 7);
    assert.equal(headers.get('content-disposition'), null);
    const failing = body.spans.filter((s) => s.error);
    assert.deepEqual(failing.map((s) => `${s.serviceName} ${s.kind}`).sort(), [
      'productpage.default CLIENT',
      'ratings.default SERVER',
      'reviews.default CLIENT',
      'reviews.default SERVER',
    ]);
    assert.equal(body.summary.rootService, 'productpage.default');
    const dl = await fetch(`${fx.url}/api/v1/traces/${id}?download=1`);
    assert.equal(dl.headers.get('content-disposition'), `attachment; filename="trace-${id}.json"`);
    const badId = await getJson<ErrorBody>(`${fx.url}/api/v1/traces/not-hex`);
    assert.equal(badId.status, 400);
    const unknown = await getJson<ErrorBody>(`${fx.url}/api/v1/traces/${'f'.repeat(32)}`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error.message, /never received, or evicted/);
  });

  test('request history export: attachment, newest first, gzip when asked', async () => {
    const res = await raw(`${fx.url}/api/v1/requests?limit=500`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(res.status, 200);
    assert.match(
      String(res.headers['content-disposition']),
      /^attachment; filename="trellis-requests-2023-11-14T/,
    );
    assert.equal(res.headers['content-encoding'], 'gzip');
    const body = JSON.parse(gunzipSync(res.body).toString('utf8')) as RequestsResponse;
    // 30 traces: productpage, details, reviews each; ratings in 22 of them.
    assert.equal(body.requests.length, 30 * 3 + 22);
    const failed = body.requests.filter((r) => r.status === 500 && r.destination === 'ratings.default');
    assert.equal(failed.length, 6);
    assert.equal(failed[0]!.source, 'reviews.default');
    assert.equal(failed[0]!.path, '/ratings/0');
  });

  test('spans arrive over OTLP/HTTP JSON and Zipkin on the same port', async () => {
    const span = (id: string, service: string): FinishedSpan => ({
      traceId: id.padStart(32, '0'),
      spanId: id.padStart(16, '0'),
      name: 'ingest-test',
      kind: 'SERVER',
      startMs: T_END - 1000,
      durationMs: 12,
      serviceName: service,
      tags: { 'http.status_code': '200' },
      error: false,
    });
    const r1 = await fetch(`${fx.url}/v1/traces`, {
      method: 'POST',
      body: otlpJsonEncoder.encode([span('abc1', 'otlp-svc.default')]),
      headers: { 'content-type': otlpJsonEncoder.contentType },
    });
    assert.equal(r1.status, 200);
    const r2 = await fetch(`${fx.url}/api/v2/spans`, {
      method: 'POST',
      body: zipkinJsonEncoder.encode([span('abc2', 'zipkin-svc.default')]),
      headers: { 'content-type': zipkinJsonEncoder.contentType },
    });
    assert.equal(r2.status, 202);
    assert.equal(
      (await getJson<TraceResponse>(`${fx.url}/api/v1/traces/abc1`)).body.spans[0]?.serviceName,
      'otlp-svc.default',
    );
    assert.equal(
      (await getJson<TraceResponse>(`${fx.url}/api/v1/traces/abc2`)).body.spans[0]?.serviceName,
      'zipkin-svc.default',
    );
  });
});

describe('events, files and errors', () => {
  test('the event stream says hello, then reports config, proxy and telemetry changes as they happen', async () => {
    const sse = await SseReader.open(`${fx.url}/api/v1/events`);
    try {
      const hello = await sse.next('hello');
      assert.equal(JSON.parse(hello.data).atMs, fx.clock.now());
      fx.config.setAppliedTo(
        { kind: 'VirtualService', namespace: 'default', name: 'ratings' },
        { total: 6, acked: 6, nacked: 0 },
      );
      assert.equal(JSON.parse((await sse.next('config')).data).topic, 'config');
      fx.proxies.update((ps) => ps.slice(1));
      await sse.next('proxies');
      fx.advance(5);
      await sse.next('telemetry');
      assert.deepEqual(sse.pending(), [], 'one event per change, nothing else');
    } finally {
      sse.close();
    }
  });

  test('static files: index revalidates, hashed assets are immutable and gzipped, traversal is refused', async () => {
    const index = await raw(`${fx.url}/`);
    assert.equal(index.status, 200);
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.match(String(index.headers['content-security-policy']), /default-src 'self'/);
    const again = await raw(`${fx.url}/`, { headers: { 'if-none-match': String(index.headers.etag) } });
    assert.equal(again.status, 304);
    const js = await raw(`${fx.url}/assets/index-3f9a1c.js`, { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.headers['content-encoding'], 'gzip');
    assert.ok(js.body.length < 500, `gzipped to ${js.body.length} bytes`);
    assert.match(gunzipSync(js.body).toString('utf8'), /^console\.log/);
    const plain = await raw(`${fx.url}/assets/index-3f9a1c.js`);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.notEqual(plain.headers.etag, js.headers.etag, 'each encoding has its own validator');
    const head = await raw(`${fx.url}/assets/index-3f9a1c.js`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    for (const path of ['/..%2f..%2fpackage.json', '/assets/../../package.json', '/nope.js']) {
      const r = await raw(`${fx.url}${path}`);
      assert.equal(r.status, 404, path);
    }
  });

  test('without a built dashboard, / says how to build it instead of failing obscurely', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'trellis-empty-'));
    const api = createApiServer({
      config: fx.config,
      proxies: fx.proxies,
      telemetry: fx.telemetry,
      assetsDir: empty,
    });
    const { url } = await api.listen(0);
    try {
      const r = await raw(`${url}/`);
      assert.equal(r.status, 503);
      assert.match(r.text, /The dashboard is not built .* Run `npm run build`/);
      assert.equal((await raw(`${url}/api/v1/proxies`)).status, 200, 'the API works all the same');
    } finally {
      await api.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('unknown API paths are JSON 404s; a wrong method is a 405 with Allow', async () => {
    const nope = await getJson<ErrorBody>(`${fx.url}/api/v1/nope`);
    assert.equal(nope.status, 404);
    assert.equal(nope.body.error.code, 'API_NOT_FOUND');
    const put = await raw(`${fx.url}/api/v1/proxies`, { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.allow, 'GET, HEAD');
  });
});

test('without subscribe() on the views, the API polls them and still reports changes', async () => {
  const polled = await startDashboardFixture({ assetsDir: false, push: false, minutes: 2 });
  const sse = await SseReader.open(`${polled.url}/api/v1/events`);
  try {
    await sse.next('hello');
    polled.config.setAppliedTo(
      { kind: 'VirtualService', namespace: 'default', name: 'ratings' },
      { total: 6, acked: 6, nacked: 0 },
    );
    polled.clock.advance(1000);
    await sse.next('config');
    polled.proxies.update((ps) => ps.slice(2));
    polled.clock.advance(1000);
    await sse.next('proxies');
    polled.runtime.mesh = {
      ...polled.runtime.mesh,
      pods: polled.runtime.mesh.pods.map((p, i) => ({ ...p, ready: i > 0 })),
    };
    polled.clock.advance(1000);
    await sse.next('status');
    polled.clock.advance(1000);
    assert.deepEqual(sse.pending(), [], 'no event while nothing changed');
    const ui = await raw(`${polled.url}/`);
    assert.equal(ui.status, 404, 'assetsDir: false serves no dashboard');
  } finally {
    sse.close();
    await polled.close();
  }
});
