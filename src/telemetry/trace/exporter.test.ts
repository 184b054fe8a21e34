import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeOtlpJson, decodeZipkinJson } from './decode.js';
import { otlpJsonEncoder, zipkinJsonEncoder } from './encode.js';
import { BatchSpanExporter } from './exporter.js';
import type { FinishedSpan } from './span.js';
import { TestCollector } from './testing/collector.js';

let collector: TestCollector;
before(async () => {
  collector = new TestCollector();
  await collector.start();
});
after(() => collector.close());

function reset() {
  collector.batches.length = 0;
  collector.requests = 0;
  collector.setMode('ok');
}

let n = 0;
function span(o: Partial<FinishedSpan> = {}): FinishedSpan {
  n++;
  return {
    traceId: n.toString(16).padStart(32, 'a'),
    spanId: n.toString(16).padStart(16, 'b'),
    parentSpanId: 'cccccccccccccccc',
    name: 'ratings.default.svc.cluster.local:9080/*',
    kind: 'CLIENT',
    startMs: 1_700_000_000_123.456,
    durationMs: 12.5,
    serviceName: 'reviews.default',
    localIp: '10.0.0.7',
    tags: { 'http.status_code': '200', 'istio.canonical_service': 'reviews' },
    error: false,
    ...o,
  };
}

test('OTLP and Zipkin encodings decode back to the same spans', () => {
  const spans = [
    span(),
    span({ kind: 'SERVER', error: true, parentSpanId: undefined, serviceName: 'ratings.default' }),
  ];
  delete spans[1]!.parentSpanId;
  const viaOtlp = decodeOtlpJson(JSON.parse(otlpJsonEncoder.encode(spans)));
  const byId = new Map(viaOtlp.map((s) => [s.spanId, s]));
  for (const s of spans) {
    const d = byId.get(s.spanId)!;
    assert.equal(d.traceId, s.traceId);
    assert.equal(d.parentSpanId, s.parentSpanId);
    assert.equal(d.kind, s.kind);
    assert.equal(d.serviceName, s.serviceName);
    assert.equal(d.error, s.error);
    assert.deepEqual(d.tags, s.tags);
    assert.ok(Math.abs(d.startMs - s.startMs) < 0.001);
    assert.ok(Math.abs(d.durationMs - s.durationMs) < 0.001);
  }
  const body = JSON.parse(otlpJsonEncoder.encode(spans));
  assert.equal(body.resourceSpans.length, 2, 'one resource per service.name');
  assert.deepEqual(body.resourceSpans[0].resource.attributes, [
    { key: 'service.name', value: { stringValue: 'reviews.default' } },
  ]);
  const viaZipkin = decodeZipkinJson(JSON.parse(zipkinJsonEncoder.encode([spans[0]!])))[0]!;
  assert.equal(viaZipkin.localIp, '10.0.0.7');
  assert.equal(viaZipkin.parentSpanId, 'cccccccccccccccc');
  assert.equal(JSON.parse(zipkinJsonEncoder.encode([spans[0]!]))[0].timestamp, 1_700_000_000_123_456);
});

test('spans are sent in batches of maxBatch, and the flush interval sends a partial batch', async () => {
  reset();
  const ex = new BatchSpanExporter({
    endpoint: collector.url,
    encoder: otlpJsonEncoder,
    maxBatch: 10,
    flushIntervalMs: 20,
  });
  for (let i = 0; i < 25; i++) assert.equal(ex.export(span()), true);
  await collector.waitForSpans(25);
  assert.deepEqual(
    collector.batches.map((b) => b.spans.length),
    [10, 10, 5],
  );
  assert.equal(collector.batches[0]!.format, 'otlp');
  await ex.shutdown();
  assert.deepEqual(ex.stats(), { queued: 0, exported: 25, dropped: 0, failedRequests: 0 });
});

test('a hung collector never blocks export(): the bounded queue drops and counts', async () => {
  reset();
  collector.setMode('hang');
  const ex = new BatchSpanExporter({
    endpoint: collector.url,
    encoder: zipkinJsonEncoder,
    maxQueue: 8,
    maxBatch: 4,
    flushIntervalMs: 5,
    timeoutMs: 60_000,
  });
  const results: boolean[] = [];
  for (let i = 0; i < 10; i++) results.push(ex.export(span()));
  await collector.waitForRequests(1); // the first batch is now stuck on the collector
  for (let i = 0; i < 10; i++) results.push(ex.export(span()));
  // export() answered every call while a request hung: 8 held (4 in flight + 4 queued), 12 dropped.
  assert.equal(results.filter(Boolean).length, 8);
  assert.equal(ex.stats().dropped, 12);
  assert.equal(ex.stats().queued, 8);
  collector.setMode('ok'); // the hung request fails with 503; the exporter retries and delivers
  await collector.waitForSpans(8);
  await ex.shutdown();
  assert.equal(collector.spans.length, 8);
  assert.equal(ex.stats().exported, 8);
});

test('collector down then up: the exporter retries with backoff and delivers everything', async () => {
  reset();
  collector.setMode('down');
  const ex = new BatchSpanExporter({
    endpoint: collector.url,
    encoder: otlpJsonEncoder,
    maxBatch: 5,
    flushIntervalMs: 5,
    backoff: { baseMs: 5, maxMs: 20 },
  });
  for (let i = 0; i < 5; i++) ex.export(span());
  await collector.waitForRequests(3);
  assert.equal(collector.spans.length, 0);
  collector.setMode('ok');
  await collector.waitForSpans(5);
  await ex.shutdown();
  const stats = ex.stats();
  assert.equal(stats.exported, 5);
  assert.ok(stats.failedRequests >= 3);
  assert.equal(stats.dropped, 0);
});

test('shutdown flushes a partial batch without waiting for the interval, then refuses new spans', async () => {
  reset();
  const ex = new BatchSpanExporter({
    endpoint: collector.url,
    encoder: zipkinJsonEncoder,
    flushIntervalMs: 60_000,
  });
  for (let i = 0; i < 3; i++) ex.export(span());
  await ex.shutdown();
  assert.equal(collector.spans.length, 3);
  assert.equal(collector.batches[0]!.format, 'zipkin');
  assert.equal(ex.export(span()), false);
});

test('shutdown with the collector unreachable gives up instead of hanging, counting the loss', async () => {
  const dead = new TestCollector();
  const url = await dead.start();
  await dead.close();
  const ex = new BatchSpanExporter({
    endpoint: url,
    encoder: otlpJsonEncoder,
    flushIntervalMs: 60_000,
    backoff: { baseMs: 1, maxMs: 2 },
  });
  for (let i = 0; i < 4; i++) ex.export(span());
  await ex.shutdown();
  assert.equal(ex.stats().dropped, 4);
  assert.equal(ex.stats().exported, 0);
});
