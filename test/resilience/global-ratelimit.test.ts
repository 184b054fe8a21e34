import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseRateLimitConfig } from '../../src/ratelimit/config.js';
import { ISTIO_TASK_CONFIG } from '../../src/ratelimit/examples.js';
import { MemoryCounterStore } from '../../src/ratelimit/memory-store.js';
import { RedisCounterStore } from '../../src/ratelimit/redis-store.js';
import { type RunningRateLimitServer, startRateLimitServer } from '../../src/ratelimit/server.js';
import { RateLimitDecider } from '../../src/ratelimit/service.js';
import type { CounterStore } from '../../src/ratelimit/store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { GrpcRateLimitClient } from '../../src/sidecar/ratelimit/global-client.js';
import { globalRateLimitFromJson } from '../../src/sidecar/ratelimit/global-config.js';
import { GlobalRateLimitFilter } from '../../src/sidecar/ratelimit/global-filter.js';
import { redisSkipReason, startRedis, type TestRedis } from './redis-server.js';
import { type Gateway, startGateway } from './rls-harness.js';

const skip = redisSkipReason();

/** The filter config of Istio's task (fail closed, 10 s timeout), pointed at a test service. */
function filterConfig(failureModeDeny: boolean) {
  return globalRateLimitFromJson({
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit',
    domain: 'ratelimit',
    failure_mode_deny: failureModeDeny,
    timeout: '10s',
    rate_limit_service: {
      grpc_service: { envoy_grpc: { cluster_name: 'outbound|8081||ratelimit.default.svc.cluster.local' } },
      transport_api_version: 'V3',
    },
  });
}

/** A service replica: fixed time (10:00:05), so the minute windows cannot roll over mid-test. */
async function replica(store: CounterStore, configText = ISTIO_TASK_CONFIG): Promise<RunningRateLimitServer> {
  const decider = new RateLimitDecider({
    config: parseRateLimitConfig([{ name: 'config.yaml', text: configText }]),
    store,
    clock: new ManualClock(Date.UTC(2025, 0, 1, 10, 0, 5)),
  });
  return startRateLimitServer({ decider, host: '127.0.0.1', port: 0 });
}

async function statuses(gateway: Gateway, paths: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const p of paths) out.push((await fetch(gateway.url + p)).status);
  return out;
}

describe("Istio's global rate limit task, counters in memory (one replica)", () => {
  let server: RunningRateLimitServer;
  let client: GrpcRateLimitClient;
  let gateway: Gateway;
  before(async () => {
    server = await replica(new MemoryCounterStore());
    client = new GrpcRateLimitClient({ target: `127.0.0.1:${server.port}` });
    gateway = await startGateway(new GlobalRateLimitFilter({ config: filterConfig(true), client }));
  });
  after(async () => {
    await gateway.close();
    client.close();
    await server.close();
  });

  test('/productpage: 200 then 429 (1 per minute)', async () => {
    assert.deepEqual(await statuses(gateway, ['/productpage', '/productpage']), [200, 429]);
  });

  test('/api/v1/products/1..3: 200, 200, 429 (the api route, 2 per minute)', async () => {
    const res = await statuses(gateway, ['/api/v1/products/1', '/api/v1/products/2', '/api/v1/products/3']);
    assert.deepEqual(res, [200, 200, 429]);
  });

  test('other paths share 100 per minute; a 429 says why and carries the service headers', async () => {
    assert.equal((await fetch(`${gateway.url}/reviews`)).status, 200);
    const denied = await fetch(`${gateway.url}/productpage`);
    assert.equal(denied.status, 429);
    assert.equal(denied.headers.get('x-envoy-ratelimited'), 'true');
    assert.equal(denied.headers.get('x-ratelimit-limit'), '1');
    assert.equal(denied.headers.get('x-ratelimit-remaining'), '0');
    assert.equal(denied.headers.get('x-ratelimit-reset'), '55');
    assert.match(
      denied.headers.get('x-trellis-reason') ?? '',
      /^RL over the limit of domain "ratelimit" for PATH=\/productpage/,
    );
  });
});

describe('counters in a real Redis', { skip }, () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  test('two service replicas sharing Redis enforce one limit', async () => {
    const config = `
domain: shared
descriptors:
  - key: user
    rate_limit: { unit: minute, requests_per_unit: 5 }
`;
    const stores = [new RedisCounterStore({ url: redis.url }), new RedisCounterStore({ url: redis.url })];
    for (const s of stores) await s.ready();
    const replicas = await Promise.all(stores.map((s) => replica(s, config)));
    const clients = replicas.map((r) => new GrpcRateLimitClient({ target: `127.0.0.1:${r.port}` }));
    try {
      const codes: number[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await clients[i % 2]!.shouldRateLimit(
          { domain: 'shared', descriptors: [{ entries: [{ key: 'user', value: 'jason' }] }] },
          2000,
        );
        codes.push(res.overallCode);
      }
      // OK = 1, OVER_LIMIT = 2: five allowed in total across both replicas, not five each.
      assert.deepEqual(codes, [1, 1, 1, 1, 1, 2, 2, 2]);
      const other = await clients[1]!.shouldRateLimit(
        { domain: 'shared', descriptors: [{ entries: [{ key: 'user', value: 'ann' }] }] },
        2000,
      );
      assert.equal(other.overallCode, 1, 'another user has their own counter');
    } finally {
      for (const c of clients) c.close();
      for (const r of replicas) await r.close();
      for (const s of stores) await s.close();
    }
  });

  test("Istio's task through Redis, then Redis dies: fail-open passes, fail-closed refuses with RLSE; then it recovers", async () => {
    const store = new RedisCounterStore({ url: redis.url });
    await store.ready();
    const server = await replica(store);
    const client = new GrpcRateLimitClient({ target: `127.0.0.1:${server.port}` });
    const open = new GlobalRateLimitFilter({ config: filterConfig(false), client });
    const closed = new GlobalRateLimitFilter({ config: filterConfig(true), client });
    const openGateway = await startGateway(open);
    const closedGateway = await startGateway(closed);
    try {
      assert.deepEqual(await statuses(closedGateway, ['/productpage', '/productpage']), [200, 429]);
      assert.deepEqual(
        await statuses(closedGateway, ['/api/v1/products/1', '/api/v1/products/2', '/api/v1/products/3']),
        [200, 200, 429],
      );

      await redis.stop();
      assert.deepEqual(await statuses(openGateway, ['/reviews', '/productpage']), [200, 200]);
      assert.equal(open.stats.failure_mode_allowed, 2);
      const refused = await fetch(`${closedGateway.url}/reviews`);
      assert.equal(refused.status, 500);
      assert.match(
        refused.headers.get('x-trellis-reason') ?? '',
        /^RLSE rate limit service for domain "ratelimit" failed/,
      );
      assert.equal(closed.stats.error, 1);

      // Redis comes back (empty, as it keeps no data): the service reconnects by itself.
      redis = await startRedis(redis.port);
      await store.ready();
      assert.deepEqual(await statuses(closedGateway, ['/productpage', '/productpage']), [200, 429]);
    } finally {
      await openGateway.close();
      await closedGateway.close();
      client.close();
      await server.close();
      await store.close();
    }
  });
});
