import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import type { RequestRecord } from '../record.js';
import { otlpJsonEncoder, zipkinJsonEncoder } from '../trace/encode.js';
import { BatchSpanExporter } from '../trace/exporter.js';
import { SequentialIdGenerator } from '../trace/ids.js';
import type { FinishedSpan } from '../trace/span.js';
import { Tracer } from '../trace/tracer.js';
import { TraceStore } from './traces.js';

const store = new TraceStore();
let server: Server;
let url: string;

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/v1/traces') store.otlpHandler(req, res);
    else if (req.url === '/api/v2/spans') store.zipkinHandler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

function tracerFor(service: string, exporter: BatchSpanExporter, clock: ManualClock) {
  return new Tracer({
    nodeId: `sidecar~10.0.0.1~${service}-v1.default~default.svc.cluster.local`,
    canonicalService: service,
    namespace: 'default',
    samplingPercentage: 100,
    sink: exporter,
    clock,
    ids: new SequentialIdGenerator(),
  });
}

const rec = (o: Partial<RequestRecord>): RequestRecord => ({
  startTime: 0,
  durationMs: 0,
  protocol: 'HTTP/1.1',
  method: 'GET',
  responseCode: 200,
  responseFlags: '-',
  bytesReceived: 0,
  bytesSent: 10,
  ...o,
});

test('spans from two sidecars over OTLP and Zipkin assemble into one searchable trace', async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const otlp = new BatchSpanExporter({ endpoint: url, encoder: otlpJsonEncoder });
  const zipkin = new BatchSpanExporter({ endpoint: url, encoder: zipkinJsonEncoder });
  const productpage = tracerFor('productpage', otlp, clock);
  const reviews = tracerFor('reviews', zipkin, clock);
  // productpage's outbound sidecar calls reviews; the reviews sidecar continues the trace.
  const client = productpage.startClientSpan({
    headers: {},
    operation: 'reviews.default.svc.cluster.local:9080/*',
  });
  const wire: Record<string, string | string[] | undefined> = {};
  productpage.inject(client, wire);
  const serverSpan = reviews.startServerSpan({
    headers: wire,
    operation: 'reviews.default.svc.cluster.local:9080/*',
  });
  clock.advance(250);
  reviews.end(
    serverSpan,
    rec({ path: '/reviews/0', authority: 'reviews:9080', responseCode: 503, responseFlags: 'UH' }),
  );
  clock.advance(5);
  productpage.end(client, rec({ path: '/reviews/0', authority: 'reviews:9080', responseCode: 503 }));
  await Promise.all([otlp.shutdown(), zipkin.shutdown()]);

  const traceId = client.context.traceId;
  const t = store.get(traceId)!;
  assert.equal(t.spans.length, 2);
  assert.equal(t.summary.rootService, 'productpage.default');
  assert.equal(t.summary.errorCount, 2);
  assert.deepEqual(t.summary.services, ['productpage.default', 'reviews.default']);
  assert.ok(Math.abs(t.summary.durationMs - 255) < 1);
  assert.deepEqual(
    store.search({ service: 'reviews.default', errorsOnly: true }).map((s) => s.traceId),
    [traceId],
  );
  assert.equal(store.search({ minDurationMs: 300 }).length, 0);
  assert.equal(store.search({ tags: { response_flags: 'UH' } }).length, 1);
  assert.equal(store.search({ tags: { response_flags: 'UF' } }).length, 0);
  assert.equal(store.search({ operation: 'nope' }).length, 0);
  assert.equal(store.search({ startMs: 1_700_000_000_000, endMs: 1_700_000_000_001 }).length, 1);
  const [h] = store.requestHistory();
  assert.deepEqual(
    { ...h, durationMs: Math.round(h!.durationMs) },
    {
      timeMs: 1_700_000_000_000,
      method: 'GET',
      path: '/reviews/0',
      status: 503,
      durationMs: 250,
      flags: 'UH',
      source: 'productpage.default',
      destination: 'reviews.default',
      traceId,
    },
  );
});

test('bad bodies get 400, oversize 413, wrong method 405', async () => {
  const post = (path: string, body: string, method = 'POST') =>
    fetch(`${url}${path}`, { method, body: method === 'POST' ? body : undefined }).then((r) => r.status);
  assert.equal(await post('/v1/traces', '{not json'), 400);
  assert.equal(await post('/v1/traces', '{"x":1}'), 400);
  assert.equal(await post('/api/v2/spans', '{}'), 400);
  assert.equal(await post('/api/v2/spans', '', 'GET'), 405);
  const small = new TraceStore({ maxBodyBytes: 10 });
  const s = createServer((req, res) => small.zipkinHandler(req, res));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const r = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/`, {
    method: 'POST',
    body: '[]'.repeat(20),
  });
  assert.equal(r.status, 413);
  await new Promise<void>((done) => s.close(() => done()));
});

test('the store is bounded by span count (oldest traces first) and by age', () => {
  const clock = new ManualClock(0);
  const bounded = new TraceStore({ maxSpans: 4, maxAgeMs: 60_000, clock });
  const span = (trace: number, id: number): FinishedSpan => ({
    traceId: String(trace).padStart(32, '0'),
    spanId: String(id).padStart(16, '0'),
    name: 'op',
    kind: 'SERVER',
    startMs: clock.now(),
    durationMs: 1,
    serviceName: 'svc',
    tags: {},
    error: false,
  });
  bounded.add([span(1, 1), span(1, 2)]);
  bounded.add([span(2, 3), span(2, 4)]);
  bounded.add([span(3, 5)]);
  assert.equal(bounded.get('1'), undefined, 'trace 1 was the oldest');
  assert.equal(bounded.spanCount, 3);
  clock.advance(30_000);
  bounded.add([span(3, 6)]); // trace 3 is touched again
  clock.advance(40_000);
  assert.deepEqual(
    bounded.search().map((s) => Number.parseInt(s.traceId, 10)),
    [3],
    'trace 2 aged out; trace 3 was touched 40 s ago',
  );
  assert.equal(bounded.add([span(3, 6)]), undefined);
  assert.equal(bounded.get('3')!.spans.length, 2, 'a duplicate span is stored once');
});
