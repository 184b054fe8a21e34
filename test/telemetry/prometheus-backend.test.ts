// Runs the real `prometheus` binary against an in-test exporter and compares its answers with the embedded store.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, test } from 'node:test';
import { LocalMetricsSource } from '../../src/telemetry/store/local-source.js';
import {
  PrometheusMetricsSource,
  prometheusConfig,
  writeFileSdTargets,
} from '../../src/telemetry/store/prometheus.js';
import { TelemetryQueries } from '../../src/telemetry/store/queries.js';
import { Scraper, type ScrapeTarget } from '../../src/telemetry/store/scraper.js';
import { TimeSeriesStore } from '../../src/telemetry/store/tsdb.js';
import { BookinfoTraffic } from '../../src/telemetry/testing/bookinfo-traffic.js';

const binary = (process.env.PATH ?? '')
  .split(delimiter)
  .map((d) => join(d, 'prometheus'))
  .find((p) => existsSync(p));
const skip = binary ? false : 'the prometheus binary is not installed (apt-get install prometheus)';

const SCRAPE_MS = 1000;
const WINDOW_MS = 10_000;
/** Seconds of history both stores need: the window, the chart's steps, and the evaluation lag. */
const HISTORY_S = 17;
const LAG_MS = 1500;

let dir: string;
let exporter: Server;
let prom: ChildProcess | undefined;
let promUrl: string;
let scraper: Scraper;
let store: TimeSeriesStore;
let promLog = '';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${promLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'trellis-prom-'));
  // Counters grow with wall time, so both scrapers see the same rates whenever they scrape.
  const traffic = new BookinfoTraffic();
  let last = Date.now();
  exporter = createServer((req, res) => {
    const now = Date.now();
    traffic.advance((now - last) / 1000);
    last = now;
    const pod = req.url?.split('/').pop();
    const sidecar = traffic.sidecars.find((s) => s.pod === pod);
    if (!sidecar) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(sidecar.registry.render());
  });
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(exporter.address() as AddressInfo).port}`;
  const targets: ScrapeTarget[] = traffic.sidecars.map((s) => ({
    url: `${base}/stats/prometheus/${s.pod}`,
    labels: { pod: s.pod, namespace: s.namespace, role: 'proxy' },
  }));

  const sdPath = join(dir, 'targets.json');
  await writeFileSdTargets(sdPath, targets);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    prometheusConfig({ fileSdPath: sdPath, scrapeIntervalMs: SCRAPE_MS }),
  );
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prom = spawn(
    binary!,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  prom.stderr!.on('data', (c: Buffer) => {
    promLog += c.toString();
  });

  store = new TimeSeriesStore({ resolutionMs: SCRAPE_MS });
  scraper = new Scraper({ store, intervalMs: SCRAPE_MS });
  scraper.setTargets(targets);
  scraper.start();

  await until('prometheus ready', () =>
    fetch(`${promUrl}/-/ready`)
      .then((r) => r.ok)
      .catch(() => false),
  );
  // Both sides need a full window of samples for every target.
  await until(
    'a full window in both stores',
    async () => {
      const local = store.select('up').every((s) => s.length >= HISTORY_S);
      const q = encodeURIComponent(`min(count_over_time(up[${HISTORY_S}s]))`);
      const r = await fetch(`${promUrl}/api/v1/query?query=${q}`);
      const j = (await r.json()) as { data: { result: { value: [number, string] }[] } };
      const n = Number(j.data.result[0]?.value[1] ?? 0);
      return local && store.select('up').length === targets.length && n >= HISTORY_S - 1;
    },
    40_000,
  );
});

after(async () => {
  scraper?.stop();
  if (prom && prom.exitCode === null) {
    const exited = new Promise((r) => prom!.once('exit', r));
    prom.kill('SIGTERM');
    await exited;
  }
  await new Promise<void>((r) => (exporter ? exporter.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const close = (a: number | undefined, b: number | undefined, tol: number, what: string) =>
  assert.ok(
    a !== undefined && b !== undefined && Math.abs(a - b) <= Math.max(Math.abs(a), Math.abs(b)) * tol + 1e-6,
    `${what}: embedded ${a} vs prometheus ${b}`,
  );

test('Prometheus discovers the file_sd targets with their labels', { skip }, async () => {
  const r = await fetch(`${promUrl}/api/v1/targets`);
  const j = (await r.json()) as {
    data: { activeTargets: { labels: Record<string, string>; health: string }[] };
  };
  const pods = j.data.activeTargets.map((t) => t.labels.pod).sort();
  assert.deepEqual(pods, [
    'details-v1-5c8d',
    'productpage-v1-7d9f',
    'ratings-v1-7a8b',
    'reviews-v1-1a2b',
    'reviews-v2-3c4d',
    'reviews-v3-5e6f',
  ]);
  assert.ok(j.data.activeTargets.every((t) => t.health === 'up' && t.labels.role === 'proxy'));
});

test('both backends give the same golden signals and graph on the same data', { skip }, async () => {
  const at = Date.now() - LAG_MS;
  const promSource = new PrometheusMetricsSource({ url: promUrl });
  const embedded = new TelemetryQueries(new LocalMetricsSource(store));
  const remote = new TelemetryQueries(promSource);
  const opts = { atMs: at, windowMs: WINDOW_MS };
  const [a, b] = await Promise.all([embedded.serviceSignals(opts), remote.serviceSignals(opts)]);
  assert.deepEqual(
    a.map((s) => s.service),
    b.map((s) => s.service),
  );
  const expectedRate: Record<string, number> = { details: 10, reviews: 10, ratings: 8, 'httpbin.org': 10 };
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    assert.equal(x.reporter, y.reporter, x.service);
    close(x.requestRate, y.requestRate, 0.1, `${x.name} rate`);
    close(x.requestRate, expectedRate[x.name], 0.15, `${x.name} rate vs traffic`);
    assert.ok(
      Math.abs(x.errorRate - y.errorRate) < 0.03,
      `${x.name} error rate ${x.errorRate} vs ${y.errorRate}`,
    );
    close(x.p50, y.p50, 0.15, `${x.name} p50`);
    close(x.p99, y.p99, 0.15, `${x.name} p99`);
  }
  const ratings = b.find((s) => s.name === 'ratings')!;
  close(ratings.p50, 100, 0.15, 'prometheus ratings p50');
  assert.equal(b.find((s) => s.name === 'httpbin.org')!.reporter, 'source');
  // The PromQL sent has the shape of Kiali's.
  assert.ok(
    promSource.queries.includes(
      'sum(rate(istio_requests_total{reporter="destination"}[10s])) by (destination_service,destination_service_name,destination_service_namespace,response_code)',
    ),
    promSource.queries.join('\n'),
  );
  assert.ok(
    promSource.queries.some((q) =>
      q.startsWith(
        'histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[10s])) by (le,',
      ),
    ),
  );

  const [ga, gb] = await Promise.all([embedded.graph(opts), remote.graph(opts)]);
  const key = (e: { source: string; target: string }) => `${e.source} -> ${e.target}`;
  assert.deepEqual(ga.edges.map(key), gb.edges.map(key));
  for (let i = 0; i < ga.edges.length; i++) {
    close(ga.edges[i]!.requestRate, gb.edges[i]!.requestRate, 0.1, `edge ${key(ga.edges[i]!)}`);
    assert.equal(ga.edges[i]!.mtls, gb.edges[i]!.mtls, `mtls ${key(ga.edges[i]!)}`);
  }
});

test('chart series from query_range match the embedded store step for step', { skip }, async () => {
  const end = Math.floor((Date.now() - LAG_MS) / 1000) * 1000;
  const spec = {
    scope: { service: 'reviews.default.svc.cluster.local' },
    windowMs: WINDOW_MS,
    startMs: end - 2000,
    endMs: end,
    stepMs: 1000,
  };
  const [a, b] = await Promise.all([
    new TelemetryQueries(new LocalMetricsSource(store)).signalSeries(spec),
    new TelemetryQueries(new PrometheusMetricsSource({ url: promUrl })).signalSeries(spec),
  ]);
  assert.deepEqual(a.timestamps, b.timestamps);
  for (let i = 0; i < a.timestamps.length; i++) close(a.requestRate[i], b.requestRate[i], 0.1, `step ${i}`);
  assert.ok(readFileSync(join(dir, 'targets.json'), 'utf8').includes('"__metrics_path__"'));
});
