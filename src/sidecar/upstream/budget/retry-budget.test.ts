import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../../shared/clock.js';
import {
  DEFAULT_RETRY_BUDGET,
  parseRetryBudgetAnnotation,
  resolveRetryBudget,
  retryBudgetFromMetadata,
  retryBudgetFromSpec,
  retryBudgetMetadata,
} from '../../../shared/retry-budget.js';
import { RetryBudget } from './retry-budget.js';

/**
 * Offers `rate` requests per second for `seconds` to a backend that fails every attempt; each request
 * asks for up to `retries` retries. Returns the attempts the backend saw.
 */
function simulate(opts: {
  rate: number;
  seconds: number;
  retries: number;
  budget?: RetryBudget;
  clock: ManualClock;
}) {
  let attempts = 0;
  const requests = opts.rate * opts.seconds;
  const gap = 1000 / opts.rate;
  for (let i = 0; i < requests; i++) {
    opts.budget?.recordRequest();
    attempts++;
    for (let r = 0; r < opts.retries; r++) {
      if (opts.budget && !opts.budget.tryRetry()) break;
      attempts++;
    }
    opts.clock.advance(gap);
  }
  return { attempts, requests };
}

describe('a backend that fails everything', () => {
  for (const retries of [2, 3]) {
    test(`sees at most ~1.2× the offered load with the default budget when routes ask for ${retries} retries`, (t) => {
      const clock = new ManualClock();
      const budget = new RetryBudget(DEFAULT_RETRY_BUDGET, clock);
      const { attempts, requests } = simulate({ rate: 500, seconds: 60, retries, budget, clock });
      const ratio = attempts / requests;
      const unbudgeted = simulate({ rate: 500, seconds: 60, retries, clock: new ManualClock() });
      t.diagnostic(
        `500 rps for 60 s: ${ratio.toFixed(3)}× with the budget, ${unbudgeted.attempts / requests}× without`,
      );
      // 20% of requests plus 10 retries/s: 1.2 + 10/500.
      assert.ok(ratio <= 1.2 + 10 / 500 + 0.005, `backend saw ${ratio}× the offered load`);
      assert.ok(ratio >= 1.15, 'the budget should still allow its 20%');
      assert.equal(budget.counters.upstream_rq_retry_overflow > 0, true);
    });
  }

  test('a quiet service can still retry every request, thanks to the per-second floor', () => {
    const clock = new ManualClock();
    const budget = new RetryBudget(DEFAULT_RETRY_BUDGET, clock);
    const { attempts, requests } = simulate({ rate: 2, seconds: 30, retries: 2, budget, clock });
    assert.equal(attempts, requests * 3);
  });

  test('spent budget comes back as old requests leave the window', () => {
    const clock = new ManualClock();
    const budget = new RetryBudget({ percent: 0, minRetriesPerSecond: 1, ttlMs: 10_000 }, clock);
    for (let i = 0; i < 10; i++) assert.ok(budget.tryRetry());
    assert.equal(budget.tryRetry(), false, 'the reserve (1/s × 10 s) is spent');
    clock.advance(11_000);
    assert.equal(budget.available(), 10);
  });
});

describe('configuration', () => {
  test('the annotation reads "20%,10", an optional TTL, or a fraction', () => {
    assert.deepEqual(parseRetryBudgetAnnotation('20%,10'), {
      percent: 0.2,
      minRetriesPerSecond: 10,
      ttlMs: 10_000,
    });
    assert.deepEqual(parseRetryBudgetAnnotation('50%'), {
      percent: 0.5,
      minRetriesPerSecond: 10,
      ttlMs: 10_000,
    });
    assert.deepEqual(parseRetryBudgetAnnotation('0.1, 5, 30s'), {
      percent: 0.1,
      minRetriesPerSecond: 5,
      ttlMs: 30_000,
    });
  });

  test('bad annotations name the annotation and the text', () => {
    assert.throws(
      () => parseRetryBudgetAnnotation('lots'),
      /trellis.dev\/retry-budget: "lots" is not a percentage/,
    );
    assert.throws(() => parseRetryBudgetAnnotation('20%,x'), /"x" is not a number of retries per second/);
    assert.throws(() => parseRetryBudgetAnnotation('20%,10,2h'), /ttl must be between 1s and 60s/);
  });

  test('the DestinationRule field is a percentage (25 = 25%); nonsense is refused', () => {
    assert.deepEqual(retryBudgetFromSpec({ percent: 25 }), {
      percent: 0.25,
      minRetriesPerSecond: 10,
      ttlMs: 10_000,
    });
    assert.throws(
      () => retryBudgetFromSpec({ percent: -5 }),
      /percent must be between 0 and 1000 \(20 means 20%\), got -5/,
    );
  });

  test('the field wins over the annotation, which wins over the default', () => {
    const annotations = { 'trellis.dev/retry-budget': '50%,1' };
    assert.equal(resolveRetryBudget({ spec: { percent: 10 }, annotations }).percent, 0.1);
    assert.equal(resolveRetryBudget({ annotations }).percent, 0.5);
    assert.equal(resolveRetryBudget({}), DEFAULT_RETRY_BUDGET);
  });

  test('cluster metadata carries the budget to the sidecar', () => {
    assert.deepEqual(
      retryBudgetMetadata(retryBudgetFromMetadata({ percent: 30, min_retries_per_second: 2 }, 'c')),
      {
        percent: 30,
        min_retries_per_second: 2,
      },
    );
    assert.deepEqual(retryBudgetFromMetadata({ percent: 30, min_retries_per_second: 2 }, 'c'), {
      percent: 0.3,
      minRetriesPerSecond: 2,
      ttlMs: 10_000,
    });
    assert.equal(retryBudgetFromMetadata(undefined, 'c'), DEFAULT_RETRY_BUDGET);
    assert.throws(
      () => retryBudgetFromMetadata({ percent: '20%' }, 'outbound|80||a'),
      /cluster "outbound\|80\|\|a"/,
    );
  });
});
