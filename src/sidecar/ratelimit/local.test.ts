import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { localRateLimitFromJson } from './local-config.js';
import { LocalRateLimitFilter } from './local-filter.js';
import type { LocalRateLimitDecision } from './local-limiter.js';

/** The `typed_config` of Istio's local rate limit task (4 requests per minute). */
const ISTIO_TASK_CONFIG = {
  '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct',
  type_url: 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
  value: {
    stat_prefix: 'http_local_rate_limiter',
    token_bucket: { max_tokens: 4, tokens_per_fill: 4, fill_interval: '60s' },
    filter_enabled: {
      runtime_key: 'local_rate_limit_enabled',
      default_value: { numerator: 100, denominator: 'HUNDRED' },
    },
    filter_enforced: {
      runtime_key: 'local_rate_limit_enforced',
      default_value: { numerator: 100, denominator: 'HUNDRED' },
    },
    response_headers_to_add: [{ append: false, header: { key: 'x-local-rate-limit', value: 'true' } }],
  },
};

const status = (d: LocalRateLimitDecision) => (d.limited ? d.status : 200);

describe("Istio's local rate limit task", () => {
  test('5 requests one second apart: 200, 200, 200, 200, 429', () => {
    const clock = new ManualClock();
    const filter = new LocalRateLimitFilter(localRateLimitFromJson(ISTIO_TASK_CONFIG), { clock });
    const codes: number[] = [];
    let last: LocalRateLimitDecision | undefined;
    for (let i = 0; i < 5; i++) {
      last = filter.check();
      codes.push(status(last));
      clock.advance(1000);
    }
    assert.deepEqual(codes, [200, 200, 200, 200, 429]);
    assert.ok(last?.limited);
    assert.equal(last.flag, 'RL');
    assert.equal(last.body, 'local_rate_limited');
    assert.deepEqual(last.responseHeadersToAdd, [
      { name: 'x-local-rate-limit', value: 'true', action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    ]);
    const stats = filter.limiterFor({}).stats;
    assert.deepEqual(stats, { enabled: 5, enforced: 1, rate_limited: 1, ok: 4 });
  });

  test('tokens come back on the fill boundary, not before', () => {
    const clock = new ManualClock();
    const filter = new LocalRateLimitFilter(localRateLimitFromJson(ISTIO_TASK_CONFIG), { clock });
    for (let i = 0; i < 4; i++) filter.check();
    clock.advance(59_999);
    assert.equal(status(filter.check()), 429);
    clock.advance(1);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => status(filter.check())),
      [200, 200, 200, 200, 429],
    );
  });

  test('the per-route variant: listener config without a bucket, the route config limits with its own bucket', () => {
    const clock = new ManualClock();
    const listener = localRateLimitFromJson({
      '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct',
      type_url: 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
      value: { stat_prefix: 'http_local_rate_limiter' },
    });
    const routeA = localRateLimitFromJson(ISTIO_TASK_CONFIG, { perRoute: true });
    const routeB = localRateLimitFromJson(ISTIO_TASK_CONFIG, { perRoute: true });
    const filter = new LocalRateLimitFilter(listener, { clock });
    for (let i = 0; i < 10; i++)
      assert.equal(status(filter.check()), 200, 'routes without their own config pass');
    const a = [1, 2, 3, 4, 5].map(() => status(filter.check({ routeConfig: routeA })));
    assert.deepEqual(a, [200, 200, 200, 200, 429]);
    assert.equal(status(filter.check({ routeConfig: routeB })), 200, "another route's bucket is untouched");
  });
});

describe('semantics', () => {
  test('without filter_enabled the filter never limits (Envoy defaults to 0% for safety)', () => {
    const filter = new LocalRateLimitFilter(
      localRateLimitFromJson({
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
        stat_prefix: 'p',
        token_bucket: { max_tokens: 1, fill_interval: '1s' },
      }),
      { clock: new ManualClock() },
    );
    for (let i = 0; i < 5; i++) assert.equal(status(filter.check()), 200);
    assert.equal(filter.limiterFor({}).stats.enabled, 0);
  });

  test('enabled but not enforced: requests pass, marked with request headers, and are counted', () => {
    const config = localRateLimitFromJson({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
      stat_prefix: 'p',
      token_bucket: { max_tokens: 1, fill_interval: '1s' },
      filter_enabled: { default_value: { numerator: 100 } },
      request_headers_to_add_when_not_enforced: [{ header: { key: 'X-Would-Limit', value: '1' } }],
    });
    const filter = new LocalRateLimitFilter(config, { clock: new ManualClock() });
    filter.check();
    const d = filter.check();
    assert.equal(d.limited, false);
    assert.deepEqual(d.limited ? [] : d.requestHeadersToAdd, [
      { name: 'x-would-limit', value: '1', action: 'APPEND_IF_EXISTS_OR_ADD' },
    ]);
    assert.deepEqual(filter.limiterFor({}).stats, { enabled: 2, enforced: 0, rate_limited: 1, ok: 1 });
  });

  test('a descriptor has its own bucket; the default bucket is charged too', () => {
    const config = localRateLimitFromJson({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
      stat_prefix: 'p',
      token_bucket: { max_tokens: 3, fill_interval: '1s' },
      filter_enabled: { default_value: { numerator: 100 } },
      filter_enforced: { default_value: { numerator: 100 } },
      descriptors: [
        { entries: [{ key: 'client', value: 'bot' }], token_bucket: { max_tokens: 1, fill_interval: '60s' } },
      ],
    });
    const filter = new LocalRateLimitFilter(config, { clock: new ManualClock() });
    const bot = [{ entries: [{ key: 'client', value: 'bot' }] }];
    assert.equal(status(filter.check({ descriptors: bot })), 200);
    assert.equal(status(filter.check({ descriptors: bot })), 429, 'the bot descriptor allows 1');
    assert.equal(status(filter.check()), 200);
    assert.equal(status(filter.check()), 200);
    assert.equal(status(filter.check()), 429, 'the default bucket (3) was charged by the first bot request');
  });

  test('per-connection buckets when local_rate_limit_per_downstream_connection is set', () => {
    const config = localRateLimitFromJson({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
      stat_prefix: 'p',
      token_bucket: { max_tokens: 1, fill_interval: '1s' },
      filter_enabled: { default_value: { numerator: 100 } },
      filter_enforced: { default_value: { numerator: 100 } },
      local_rate_limit_per_downstream_connection: true,
    });
    const filter = new LocalRateLimitFilter(config, { clock: new ManualClock() });
    const c1 = {};
    const c2 = {};
    assert.equal(status(filter.check({ connection: c1 })), 200);
    assert.equal(status(filter.check({ connection: c1 })), 429);
    assert.equal(status(filter.check({ connection: c2 })), 200);
  });

  test('x-ratelimit headers (DRAFT_VERSION_03) report limit, remaining and reset', () => {
    const clock = new ManualClock();
    const config = localRateLimitFromJson({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
      stat_prefix: 'p',
      status: { code: 200 },
      token_bucket: { max_tokens: 2, fill_interval: '10s' },
      filter_enabled: { default_value: { numerator: 100 } },
      filter_enforced: { default_value: { numerator: 100 } },
      enable_x_ratelimit_headers: 'DRAFT_VERSION_03',
    });
    assert.equal(config.status, 429, 'a status below 400 becomes 429');
    const filter = new LocalRateLimitFilter(config, { clock });
    clock.advance(3000);
    const d = filter.check();
    assert.deepEqual(
      d.responseHeadersToAdd.map((h) => [h.name, h.value]),
      [
        ['x-ratelimit-limit', '2'],
        ['x-ratelimit-remaining', '1'],
        ['x-ratelimit-reset', '7'],
      ],
    );
  });
});

describe('decoding errors name the field', () => {
  test('a TypedStruct of another type', () => {
    assert.throws(
      () =>
        localRateLimitFromJson({
          ...ISTIO_TASK_CONFIG,
          type_url: 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
        }),
      /TypedStruct type_url must be type.googleapis.com\/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit, got .*HTTPFault/,
    );
  });

  test('an unknown field', () => {
    assert.throws(
      () =>
        localRateLimitFromJson({
          ...ISTIO_TASK_CONFIG,
          value: { ...ISTIO_TASK_CONFIG.value, max_tokens: 4 },
        }),
      /envoy.filters.http.local_ratelimit: .*max_tokens/,
    );
  });

  test('a per-route config without a bucket, and a too-short fill interval', () => {
    const base = {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
      stat_prefix: 'p',
    };
    assert.throws(
      () => localRateLimitFromJson(base, { perRoute: true }),
      /per-route local rate limit needs a token_bucket/,
    );
    assert.throws(
      () => localRateLimitFromJson({ ...base, token_bucket: { max_tokens: 1, fill_interval: '0.01s' } }),
      /token_bucket: fill_interval must be at least 50ms, got 10ms/,
    );
  });

  test('a whole filter entry (name + typed_config) is accepted too', () => {
    const c = localRateLimitFromJson({
      name: 'envoy.filters.http.local_ratelimit',
      typed_config: ISTIO_TASK_CONFIG,
    });
    assert.equal(c.tokenBucket?.maxTokens, 4);
  });
});
