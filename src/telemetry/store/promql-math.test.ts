import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketQuantile, promRate } from './promql-math.js';

const inf = Number.POSITIVE_INFINITY;

test('histogram quantiles interpolate inside the bucket exactly as Prometheus does (hand-computed)', () => {
  // Cumulative: 10 obs <= 1, 30 <= 5, 40 <= 10, 50 total.
  const b = [
    { upperBound: 1, count: 10 },
    { upperBound: 5, count: 30 },
    { upperBound: 10, count: 40 },
    { upperBound: inf, count: 50 },
  ];
  assert.equal(bucketQuantile(0.2, b), 1); // rank 10 fills the first bucket: 0 + 1 * 10/10
  assert.equal(bucketQuantile(0.5, b), 4); // rank 25: 1 + (5-1) * (25-10)/(30-10)
  assert.equal(bucketQuantile(0.7, b), 7.5); // rank 35: 5 + 5 * (35-30)/(40-30)
  assert.equal(bucketQuantile(0.9, b), 10); // rank 45 lands in +Inf: the highest finite bound
  assert.ok(Number.isNaN(bucketQuantile(0.5, b.slice(0, 3))), 'no +Inf bucket');
  assert.ok(
    Number.isNaN(
      bucketQuantile(
        0.5,
        b.map((x) => ({ ...x, count: 0 })),
      ),
    ),
    'no observations',
  );
  assert.equal(bucketQuantile(-1, b), Number.NEGATIVE_INFINITY);
  assert.equal(bucketQuantile(2, b), inf);
  // Non-monotonic input (rates of separate series jitter) is flattened before ranking: the le=5 bucket
  // becomes 10, so rank 10 of 20 is reached at the end of the first bucket.
  assert.equal(
    bucketQuantile(0.5, [
      { upperBound: 1, count: 10 },
      { upperBound: 5, count: 9 },
      { upperBound: inf, count: 20 },
    ]),
    1,
  );
  assert.equal(
    bucketQuantile(0.75, [
      { upperBound: 1, count: 10 },
      { upperBound: 5, count: 9 },
      { upperBound: 10, count: 20 },
      { upperBound: inf, count: 20 },
    ]),
    7.5,
  );
});

test('rate() extrapolates to the window edges and corrects counter resets (hand-computed)', () => {
  // A perfect 2/s counter sampled every 5 s across the whole window.
  const t = Array.from({ length: 13 }, (_, i) => i * 5000);
  assert.equal(
    promRate(
      t,
      t.map((x) => x / 500),
      0,
      60_000,
    ),
    2,
  );
  // Samples from 10 s to 50 s (100 -> 500) in a 60 s window: 400 over 40 s, extrapolated by 10 s each side.
  const t2 = [10_000, 20_000, 30_000, 40_000, 50_000];
  assert.equal(promRate(t2, [100, 200, 300, 400, 500], 0, 60_000), 10);
  // A reset: 0, 50, then 10 and 60 after a restart: the increase is 50 + 60 = 110 over 30 s.
  assert.equal(promRate([0, 10_000, 20_000, 30_000], [0, 50, 10, 60], 0, 30_000), 110 / 30);
  assert.equal(promRate([1000], [5], 0, 60_000), undefined);
});
