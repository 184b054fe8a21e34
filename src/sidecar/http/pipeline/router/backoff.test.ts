// Retry back-off bounds: Envoy's (2^N − 1) × base ceiling, the cap, full jitter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryBackoffMs } from './backoff.js';

test('ceilings grow as (2^N - 1) × base and stop at the cap', () => {
  const top = (n: number) => retryBackoffMs(n, 25, 250, () => 0.9999);
  assert.deepEqual([1, 2, 3, 4, 5].map(top), [24, 74, 174, 250, 250]);
});

test('full jitter: a zero draw gives no wait at all', () => {
  assert.equal(
    retryBackoffMs(3, 25, 250, () => 0),
    0,
  );
});
