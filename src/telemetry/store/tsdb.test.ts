import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eq, re } from './matchers.js';
import { TimeSeriesStore } from './tsdb.js';

test('a series keeps one hour at 5 s, oldest samples overwritten, out-of-order samples ignored', () => {
  const store = new TimeSeriesStore({ retentionMs: 3_600_000, resolutionMs: 5000 });
  assert.equal(store.capacity, 722);
  for (let i = 0; i < 1000; i++) store.append('x', { a: '1' }, i * 5000, i);
  assert.equal(store.append('x', { a: '1' }, 10, 1), false);
  const [s] = store.select('x');
  assert.equal(s!.length, 722);
  const all = s!.range(0, Number.POSITIVE_INFINITY);
  assert.equal(all.v[0], 1000 - 722);
  assert.equal(all.v[all.v.length - 1], 999);
  assert.deepEqual(s!.range(4_990_000, 4_995_000).v, [998, 999]);
});

test('selection by name and matchers; compaction drops series past retention; the series cap holds', () => {
  const store = new TimeSeriesStore({ retentionMs: 60_000, resolutionMs: 1000, maxSeries: 3 });
  store.append('req', { code: '200', ns: 'a' }, 0, 1);
  store.append('req', { code: '503', ns: 'a' }, 0, 1);
  store.append('req', { code: '404', ns: 'b' }, 100_000, 1);
  assert.equal(store.append('req', { code: '500', ns: 'b' }, 100_000, 1), false);
  assert.equal(store.stats().droppedSeries, 1);
  assert.equal(store.select('req', [eq('ns', 'a')]).length, 2);
  assert.equal(store.select('req', [re('code', '5..')]).length, 1);
  assert.equal(store.compact(100_000), 2);
  assert.deepEqual(
    store.select('req').map((s) => s.labels.code),
    ['404'],
  );
});

test('memory is bounded by series x capacity and the estimate matches what the rings allocate', () => {
  const before = process.memoryUsage().arrayBuffers;
  const store = new TimeSeriesStore({ retentionMs: 3_600_000, resolutionMs: 5000 });
  const series = 2000;
  for (let i = 0; i < series; i++) store.append('istio_requests_total', { id: String(i) }, 0, 0);
  const grown = process.memoryUsage().arrayBuffers - before;
  const rings = series * store.capacity * 16;
  assert.ok(grown >= rings * 0.95 && grown <= rings * 1.1, `rings ${rings} B, arrayBuffers grew ${grown} B`);
  const stats = store.stats();
  assert.ok(
    stats.estimatedBytes >= rings && stats.estimatedBytes < rings * 1.1,
    String(stats.estimatedBytes),
  );
  // 2000 series for an hour at 5 s: about 23 MB, whatever the traffic.
  assert.ok(stats.estimatedBytes < 25_000_000);
});
