import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatAgo,
  formatBytes,
  formatClock,
  formatCores,
  formatMs,
  formatPercent,
  formatRate,
  shortHost,
} from './format.js';

test('rates, percentages and latencies read at a glance, and missing data shows as a dash', () => {
  assert.deepEqual(
    [formatRate(0), formatRate(0.4), formatRate(12.34), formatRate(2500)],
    ['0/s', '0.40/s', '12.3/s', '2.5k/s'],
  );
  assert.deepEqual([formatPercent(0), formatPercent(0.0012), formatPercent(0.05)], ['0%', '0.12%', '5.0%']);
  assert.deepEqual(
    [formatMs(0), formatMs(0.85), formatMs(12.5), formatMs(475), formatMs(1200), formatMs(125_000)],
    ['0ms', '850µs', '12.5ms', '475ms', '1.20s', '2m 5s'],
  );
  assert.deepEqual([formatRate(undefined), formatPercent(Number.NaN), formatMs(null)], ['–', '–', '–']);
});

test('bytes, cores, times and host names', () => {
  assert.deepEqual([formatBytes(512), formatBytes(55 * 1024 * 1024)], ['512 B', '55.0 MiB']);
  assert.deepEqual([formatCores(0.02), formatCores(1.5)], ['20m', '1.50 cores']);
  assert.equal(formatAgo(1000, 6000), '5s ago');
  assert.equal(formatAgo(0, 7_200_000), '2h ago');
  assert.equal(formatClock(1_700_002_800_000), '23:00:00');
  assert.equal(shortHost('reviews.default.svc.cluster.local'), 'reviews');
  assert.equal(shortHost('httpbin.org'), 'httpbin.org');
});
