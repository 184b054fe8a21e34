import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseRateLimitConfig } from '../../ratelimit/config.js';
import { ISTIO_TASK_CONFIG } from '../../ratelimit/examples.js';
import { MemoryCounterStore } from '../../ratelimit/memory-store.js';
import { type RunningRateLimitServer, startRateLimitServer } from '../../ratelimit/server.js';
import { RateLimitDecider } from '../../ratelimit/service.js';
import type { CounterStore } from '../../ratelimit/store.js';
import { ManualClock } from '../../shared/clock.js';
import { GrpcRateLimitClient } from './global-client.js';
import { type GlobalRateLimitConfig, globalRateLimitFromJson } from './global-config.js';
import { GlobalRateLimitFilter } from './global-filter.js';

const TYPE = 'type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit';
const SERVICE = {
  grpc_service: { envoy_grpc: { cluster_name: 'rate_limit_cluster' } },
  transport_api_version: 'V3',
};
const productpage = [{ entries: [{ key: 'PATH', value: '/productpage' }] }];

/** A fixed clock (10:00:05) keeps every call of a test in one minute window. */
const clock = new ManualClock(Date.UTC(2025, 0, 1, 10, 0, 5));

async function serve(store: CounterStore): Promise<RunningRateLimitServer> {
  const decider = new RateLimitDecider({
    config: parseRateLimitConfig([{ name: 'c', text: ISTIO_TASK_CONFIG }]),
    store,
    clock,
  });
  return startRateLimitServer({ decider, host: '127.0.0.1', port: 0 });
}

describe('filter config', () => {
  test("Istio's task filter decodes with Envoy's defaults", () => {
    const c = globalRateLimitFromJson({
      '@type': TYPE,
      domain: 'ratelimit',
      failure_mode_deny: true,
      rate_limit_service: SERVICE,
    });
    assert.equal(c.timeoutMs, 20);
    assert.equal(c.failureModeDeny, true);
    assert.equal(c.serviceCluster, 'rate_limit_cluster');
    assert.equal(c.rateLimitedStatus, 429);
    assert.equal(c.statusOnError, 500);
  });

  test('errors name the field', () => {
    assert.throws(
      () => globalRateLimitFromJson({ '@type': TYPE }),
      /envoy.filters.http.ratelimit: domain is required/,
    );
    assert.throws(
      () =>
        globalRateLimitFromJson({
          '@type': TYPE,
          domain: 'd',
          rate_limit_service: { ...SERVICE, transport_api_version: 'AUTO' },
        }),
      /transport_api_version must be V3/,
    );
    assert.throws(
      () => globalRateLimitFromJson({ '@type': TYPE, domain: 'd', request_type: 'sometimes' }),
      /request_type must be internal, external or both, got "sometimes"/,
    );
  });
});

describe('decisions against a real RLS server', () => {
  let server: RunningRateLimitServer;
  let client: GrpcRateLimitClient;
  before(async () => {
    server = await serve(new MemoryCounterStore(clock));
    client = new GrpcRateLimitClient({ target: `127.0.0.1:${server.port}` });
  });
  after(async () => {
    client.close();
    await server.close();
  });
  const filter = (extra: Record<string, unknown> = {}) =>
    new GlobalRateLimitFilter({
      config: globalRateLimitFromJson({
        '@type': TYPE,
        domain: 'ratelimit',
        rate_limit_service: SERVICE,
        timeout: '2s',
        ...extra,
      }),
      client,
    });

  test('over the limit: 429 RL with x-envoy-ratelimited and draft-03 headers; no descriptors, no call', async () => {
    const f = filter({ enable_x_ratelimit_headers: 'DRAFT_VERSION_03' });
    const first = await f.check(productpage);
    assert.equal(first.action, 'allow');
    const second = await f.check(productpage);
    assert.ok(second.action === 'deny');
    assert.equal(second.status, 429);
    assert.equal(second.flag, 'RL');
    const headers = Object.fromEntries(second.responseHeadersToAdd.map((h) => [h.name, h.value]));
    assert.equal(headers['x-envoy-ratelimited'], 'true');
    assert.equal(headers['x-ratelimit-limit'], '1, 1;w=60');
    assert.equal(headers['x-ratelimit-remaining'], '0');
    assert.deepEqual(await f.check([]), {
      action: 'allow',
      requestHeadersToAdd: [],
      responseHeadersToAdd: [],
      failedOpen: false,
    });
    assert.deepEqual(f.stats, { ok: 1, over_limit: 1, error: 0, failure_mode_allowed: 0 });
  });

  test('disable_x_envoy_ratelimited_header and a custom status', async () => {
    const f = filter({ disable_x_envoy_ratelimited_header: true, rate_limited_status: { code: 503 } });
    const api = [{ entries: [{ key: 'PATH', value: 'api' }] }];
    assert.equal((await f.check(api)).action, 'allow');
    assert.equal((await f.check(api)).action, 'allow');
    const d = await f.check(api);
    assert.ok(d.action === 'deny');
    assert.equal(d.status, 503);
    assert.equal(
      d.responseHeadersToAdd.find((h) => h.name === 'x-envoy-ratelimited'),
      undefined,
    );
  });
});

test('a service slower than the timeout is an error: fail open passes, fail closed refuses with RLSE', async () => {
  const hanging: CounterStore = { increment: () => new Promise(() => {}), close: async () => {} };
  const server = await serve(hanging);
  const client = new GrpcRateLimitClient({ target: `127.0.0.1:${server.port}` });
  try {
    const make = (failureModeDeny: boolean): GlobalRateLimitConfig => ({
      ...globalRateLimitFromJson({
        '@type': TYPE,
        domain: 'ratelimit',
        rate_limit_service: SERVICE,
        timeout: '0.05s',
      }),
      failureModeDeny,
    });
    const open = new GlobalRateLimitFilter({ config: make(false), client });
    assert.deepEqual(await open.check(productpage), {
      action: 'allow',
      requestHeadersToAdd: [],
      responseHeadersToAdd: [],
      failedOpen: true,
    });
    const closed = await new GlobalRateLimitFilter({ config: make(true), client }).check(productpage);
    assert.ok(closed.action === 'deny');
    assert.equal(closed.status, 500);
    assert.equal(closed.flag, 'RLSE');
    assert.match(closed.reason, /DEADLINE_EXCEEDED/);
  } finally {
    client.close();
    await server.close();
  }
});
