import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { ManualClock } from '../shared/clock.js';
import {
  RateLimitRequestSchema,
  RateLimitResponse_Code,
} from '../xds/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { parseRateLimitConfig } from './config.js';
import { ISTIO_TASK_CONFIG } from './examples.js';
import { MemoryCounterStore } from './memory-store.js';
import { RateLimitDecider } from './service.js';

function setup(text = ISTIO_TASK_CONFIG) {
  // 10:00:30 UTC: thirty seconds into a minute window.
  const clock = new ManualClock(Date.UTC(2025, 0, 1, 10, 0, 30));
  const decider = new RateLimitDecider({
    config: parseRateLimitConfig([{ name: 'c', text }]),
    store: new MemoryCounterStore(clock),
    clock,
  });
  const ask = (domain: string, ...descriptors: [string, string][][]) =>
    decider.shouldRateLimit(
      create(RateLimitRequestSchema, {
        domain,
        descriptors: descriptors.map((d) => ({ entries: d.map(([key, value]) => ({ key, value })) })),
      }),
    );
  return { clock, decider, ask };
}

const OK = RateLimitResponse_Code.OK;
const OVER = RateLimitResponse_Code.OVER_LIMIT;

describe('fixed windows', () => {
  test('/productpage: 1 per minute, counted per calendar minute', async () => {
    const { clock, ask } = setup();
    assert.equal((await ask('ratelimit', [['PATH', '/productpage']])).overallCode, OK);
    const second = await ask('ratelimit', [['PATH', '/productpage']]);
    assert.equal(second.overallCode, OVER);
    assert.equal(second.statuses[0]!.durationUntilReset?.seconds, 30n);
    clock.advance(30_000);
    assert.equal(
      (await ask('ratelimit', [['PATH', '/productpage']])).overallCode,
      OK,
      'a new minute, a new window',
    );
  });

  test('the answer carries limit, remaining and reset headers of the closest descriptor', async () => {
    const { ask } = setup();
    const res = await ask('ratelimit', [['PATH', 'api']], [['PATH', '/reviews']]);
    assert.deepEqual(
      res.responseHeadersToAdd.map((h) => [h.key, h.value]),
      [
        ['x-ratelimit-limit', '2'],
        ['x-ratelimit-remaining', '1'],
        ['x-ratelimit-reset', '30'],
      ],
    );
    assert.deepEqual(
      res.statuses.map((s) => [s.code, s.limitRemaining]),
      [
        [OK, 1],
        [OK, 99],
      ],
    );
  });

  test('one descriptor over its limit makes the whole answer OVER_LIMIT', async () => {
    const { ask } = setup();
    await ask('ratelimit', [['PATH', '/productpage']]);
    const res = await ask('ratelimit', [['PATH', '/reviews']], [['PATH', '/productpage']]);
    assert.equal(res.overallCode, OVER);
    assert.deepEqual(
      res.statuses.map((s) => s.code),
      [OK, OVER],
    );
  });

  test('hits_addend counts several hits at once', async () => {
    const { decider } = setup();
    const req = (hitsAddend: number) =>
      decider.shouldRateLimit(
        create(RateLimitRequestSchema, {
          domain: 'ratelimit',
          hitsAddend,
          descriptors: [{ entries: [{ key: 'PATH', value: '/x' }] }],
        }),
      );
    assert.equal((await req(60)).statuses[0]!.limitRemaining, 40);
    assert.equal((await req(40)).overallCode, OK);
    assert.equal((await req(1)).overallCode, OVER);
  });
});

test('unlimited and unknown descriptors pass without a counter; shadow mode counts but passes', async () => {
  const { ask, decider } = setup(`
domain: d
descriptors:
  - key: client
    value: internal
    rate_limit: { unlimited: true }
  - key: plan
    shadow_mode: true
    rate_limit: { unit: second, requests_per_unit: 1 }
`);
  for (let i = 0; i < 5; i++) assert.equal((await ask('d', [['client', 'internal']])).overallCode, OK);
  assert.equal((await ask('d', [['nothing', 'here']])).statuses[0]!.currentLimit, undefined);
  await ask('d', [['plan', 'free']]);
  const res = await ask('d', [['plan', 'free']]);
  assert.equal(res.overallCode, OK);
  assert.deepEqual(decider.stats().get('d.plan'), {
    total_hits: 2,
    over_limit: 1,
    // As the reference service counts: the threshold is floor(1 × 0.8) = 0, so the first hit is near.
    near_limit: 1,
    within_limit: 1,
    shadow_mode: 1,
  });
});

test('a request without a domain or descriptors is invalid', async () => {
  const { ask } = setup();
  await assert.rejects(ask(''), /domain must not be empty/);
  await assert.rejects(ask('ratelimit'), /descriptor list must not be empty/);
});
