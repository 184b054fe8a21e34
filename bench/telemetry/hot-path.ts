// Micro-benchmark of the telemetry hot path: ns per request for metrics + stats, an access log line, a span.

import { Writable } from 'node:stream';
import { ISTIO_JSON_FORMAT, ISTIO_TEXT_FORMAT } from '../../src/telemetry/accesslog/formats.js';
import { compileJsonFormat, compileTextFormat } from '../../src/telemetry/accesslog/formatter.js';
import { AccessLogSink } from '../../src/telemetry/accesslog/sink.js';
import { IstioMetrics } from '../../src/telemetry/metrics/istio.js';
import { MetricsRegistry } from '../../src/telemetry/metrics/registry.js';
import type { RequestRecord } from '../../src/telemetry/record.js';
import { StatsStore } from '../../src/telemetry/stats/store.js';
import { otlpJsonEncoder } from '../../src/telemetry/trace/encode.js';
import type { FinishedSpan } from '../../src/telemetry/trace/span.js';
import { Tracer } from '../../src/telemetry/trace/tracer.js';

const N = Number(process.env.BENCH_N ?? 1_000_000);

function bench(name: string, n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 100_000); i++) fn(i); // warm up the JIT
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${name.padEnd(58)} ${ns.toFixed(1).padStart(9)} ns/op`);
  return ns;
}

const rec: RequestRecord = {
  startTime: Date.now(),
  durationMs: 4.2,
  protocol: 'HTTP/1.1',
  method: 'GET',
  path: '/reviews/0',
  authority: 'reviews:9080',
  requestHeaders: {
    'user-agent': 'python-requests/2.31',
    'x-request-id': '84961386-6d84-929d-98bd-c5aee93b5c88',
  },
  responseHeaders: { 'x-envoy-upstream-service-time': '3' },
  responseCode: 200,
  responseFlags: '-',
  responseCodeDetails: 'via_upstream',
  bytesReceived: 0,
  bytesSent: 358,
  upstreamHost: '10.44.1.27:9080',
  upstreamCluster: 'outbound|9080||reviews.default.svc.cluster.local',
  upstreamLocalAddress: '10.44.1.23:37652',
  downstreamLocalAddress: '10.0.45.184:9080',
  downstreamRemoteAddress: '10.44.1.23:46520',
  routeName: 'default',
};

console.log(`node ${process.version}, ${N} iterations per case`);

// 1. Istio's four request metrics plus Envoy cluster and HCM stats, as the sidecar records one response.
const registry = new MetricsRegistry();
const istio = new IstioMetrics({ registry });
const recorder = istio.http({
  reporter: 'source',
  local: {
    workloadName: 'productpage-v1',
    namespace: 'default',
    app: 'productpage',
    version: 'v1',
    canonicalService: 'productpage',
    canonicalRevision: 'v1',
    cluster: 'Kubernetes',
  },
  peer: {
    workloadName: 'reviews-v2',
    namespace: 'default',
    app: 'reviews',
    version: 'v2',
    canonicalService: 'reviews',
    canonicalRevision: 'v2',
    cluster: 'Kubernetes',
  },
  service: { host: 'reviews.default.svc.cluster.local', name: 'reviews' },
  localPrincipal: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage',
  peerPrincipal: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews',
});
const stats = new StatsStore();
const cluster = stats.cluster('outbound|9080||reviews.default.svc.cluster.local');
const hcm = stats.httpConnManager('outbound_0.0.0.0_9080');
bench('istio 4 metrics (requests_total + 3 histograms)', N, () => recorder.record(rec));
bench('istio 4 metrics + Envoy cluster/HCM stats', N, () => {
  recorder.record(rec);
  cluster.upstream_rq_total.inc();
  cluster.responseCode(rec.responseCode);
  hcm.downstream_rq_total.inc();
  hcm.responseCode(rec.responseCode);
});
const codes = [200, 200, 200, 200, 503, 404];
bench('  same, response code varying over 3 codes', N, (i) => {
  rec.responseCode = codes[i % 6]!;
  recorder.record(rec);
  cluster.upstream_rq_total.inc();
  cluster.responseCode(rec.responseCode);
  hcm.downstream_rq_total.inc();
  hcm.responseCode(rec.responseCode);
});
rec.responseCode = 200;

// 2. Access log lines.
const text = compileTextFormat(ISTIO_TEXT_FORMAT);
const json = compileJsonFormat(ISTIO_JSON_FORMAT);
let sinkBytes = 0;
bench('access log: Istio default TEXT line', N, () => {
  sinkBytes += text(rec).length;
});
bench('access log: Istio default JSON line', N, () => {
  sinkBytes += json(rec).length;
});
const devnull = new Writable({
  write(_c, _e, cb) {
    cb();
  },
});
const sink = new AccessLogSink({ destination: { stream: devnull }, maxBufferedBytes: 64 * 1024 * 1024 });
const LOG_N = Math.min(N, 200_000);
bench('access log: TEXT line + queue to an async sink', LOG_N, () => {
  sink.write(text(rec));
});
await sink.flush();

// 3. Spans: start + end with Istio's tags, and header injection.
let exported = 0;
const tracer = new Tracer({
  nodeId: 'sidecar~10.44.1.23~productpage-v1-7d9f.default~default.svc.cluster.local',
  canonicalService: 'productpage',
  canonicalRevision: 'v1',
  namespace: 'default',
  meshId: 'cluster.local',
  samplingPercentage: 100,
  sink: {
    export: () => {
      exported++;
      return true;
    },
  },
});
const headers = {
  'user-agent': 'python-requests/2.31',
  'x-request-id': '84961386-6d84-929d-98bd-c5aee93b5c88',
};
const out: Record<string, string | string[] | undefined> = {};
const SPAN_N = Math.min(N, 300_000);
bench('span: start server span + end (sampled, Istio tags)', SPAN_N, () => {
  tracer.end(tracer.startServerSpan({ headers, operation: 'reviews.default.svc.cluster.local:9080/*' }), rec);
});
bench('span: start + inject W3C & B3 + end', SPAN_N, () => {
  const s = tracer.startServerSpan({ headers, operation: 'reviews.default.svc.cluster.local:9080/*' });
  tracer.inject(s, out);
  tracer.end(s, rec);
});
const unsampled = new Tracer({
  nodeId: 'n',
  canonicalService: 'p',
  namespace: 'default',
  samplingPercentage: 0,
});
bench('span: unsampled start + end', SPAN_N, () => {
  unsampled.end(unsampled.startServerSpan({ headers, operation: 'op' }), rec);
});
const batch: FinishedSpan[] = [];
const s0 = tracer.startServerSpan({ headers, operation: 'op' });
const f0 = tracer.end(s0, rec)!;
for (let i = 0; i < 512; i++) batch.push(f0);
const enc = bench('OTLP JSON encode, per span (batches of 512)', 200, () => otlpJsonEncoder.encode(batch));
console.log(`${''.padEnd(58)} ${(enc / 512).toFixed(1).padStart(9)} ns/span`);

// Exposition cost for the control plane's scrape of one sidecar.
const big = new MetricsRegistry();
const m = new IstioMetrics({ registry: big });
for (let i = 0; i < 200; i++) {
  m.http({ reporter: 'source', local: { workloadName: 'a' }, peer: { workloadName: `peer-${i}` } }).record(
    rec,
  );
}
bench('render 200 label sets x 4 Istio metrics (exposition)', 50, () => big.render());
console.log(
  `(${exported} spans exported, ${sinkBytes} bytes formatted, ${(big.render().length / 1024).toFixed(0)} KiB exposition)`,
);
