// Rate limits end to end: Istio's local limit (4/min) and global limit against the merged RLS service.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { parseRateLimitConfig } from '../../../src/ratelimit/config.js';
import { ISTIO_TASK_CONFIG } from '../../../src/ratelimit/examples.js';
import { MemoryCounterStore } from '../../../src/ratelimit/memory-store.js';
import { RedisCounterStore } from '../../../src/ratelimit/redis-store.js';
import { type RunningRateLimitServer, startRateLimitServer } from '../../../src/ratelimit/server.js';
import { RateLimitDecider } from '../../../src/ratelimit/service.js';
import type { CounterStore } from '../../../src/ratelimit/store.js';
import { ManualClock } from '../../../src/shared/clock.js';
import type { GlobalRateLimitConfig, LocalRateLimitConfig } from '../../../src/sidecar/config/model.js';
import { rateLimitPolicyFromProto } from '../../../src/sidecar/ratelimit/descriptors.js';
import { globalRateLimitFromJson } from '../../../src/sidecar/ratelimit/global-config.js';
import { localRateLimitFromJson } from '../../../src/sidecar/ratelimit/local-config.js';
import { RateLimitSchema } from '../../../src/xds/gen/envoy/config/route/v3/route_components_pb.js';
import { redisSkipReason, startRedis, type TestRedis } from '../../resilience/redis-server.js';
import { TestClusters } from './clusters.js';
import { deadPort, hcmConfig, request, startPipeline, startUpstream, type Upstream } from './harness.js';
import { route, routeTable, simpleTable, vhost } from './routes.js';

/** Istio's task: token_bucket {max_tokens: 4, tokens_per_fill: 4, fill_interval: 60s}, x-local-rate-limit: true. */
const ISTIO_LOCAL: LocalRateLimitConfig = localRateLimitFromJson({
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
    response_headers_to_add: [
      { append_action: 'OVERWRITE_IF_EXISTS_OR_ADD', header: { key: 'x-local-rate-limit', value: 'true' } },
    ],
  },
});

describe('local rate limit', () => {
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream((_req, res) => res.end('productpage'));
  });
  after(() => upstream.close());

  test("Istio's task: 5 requests at 4/min give 200, 200, 200, 200, 429 with x-local-rate-limit and flag RL", async () => {
    const clusters = new TestClusters();
    clusters.add({ name: 'inbound|9080||', endpoints: [{ port: upstream.port }] });
    const p = await startPipeline({
      config: hcmConfig({
        routeConfig: simpleTable(route({ route: { cluster: 'inbound|9080||' } })),
        httpFilters: [
          { name: 'envoy.filters.http.local_ratelimit', kind: 'localRateLimit', config: ISTIO_LOCAL },
        ],
        accessLog: [
          { path: '/dev/null', format: { kind: 'text', text: '%RESPONSE_CODE% %RESPONSE_FLAGS%\n' } },
        ],
      }),
      clusters,
      direction: 'inbound',
    });
    try {
      const statuses: number[] = [];
      let last: Awaited<ReturnType<typeof request>> | undefined;
      for (let i = 0; i < 5; i++) {
        last = await request(p.port, { path: '/productpage' });
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 429]);
      assert.equal(last!.body, 'local_rate_limited');
      assert.equal(last!.headers['x-local-rate-limit'], 'true');
      assert.match(
        String(last!.headers['x-trellis-reason']),
        /^RL local rate limit "http_local_rate_limiter" on route "[^"]+" exhausted its token bucket \(4 per 60000ms\)$/,
      );
      assert.equal(upstream.seen.length, 4);
      await p.telemetry.waitForLines(5);
      assert.equal(p.telemetry.lines[4], '429 RL\n');
      assert.equal(p.telemetry.stat('http_local_rate_limiter.http_local_rate_limit.rate_limited'), 1);
    } finally {
      await p.close();
    }
  });

  test('a per-route limit has its own bucket; other routes are not limited', async () => {
    const clusters = new TestClusters();
    clusters.add({ name: 'backend', endpoints: [{ port: upstream.port }] });
    const perRoute = {
      ...ISTIO_LOCAL,
      tokenBucket: { maxTokens: 2, tokensPerFill: 2, fillIntervalMs: 60_000 },
    };
    const listener = { ...ISTIO_LOCAL, tokenBucket: undefined };
    const table = simpleTable(
      route({ match: { prefix: '/limited' }, localRateLimit: perRoute, route: { cluster: 'backend' } }),
      route({ route: { cluster: 'backend' } }),
    );
    const p = await startPipeline({
      config: hcmConfig({
        routeConfig: table,
        httpFilters: [{ name: 'lrl', kind: 'localRateLimit', config: listener }],
      }),
      clusters,
    });
    try {
      const limited = [];
      for (let i = 0; i < 3; i++) limited.push((await request(p.port, { path: '/limited' })).status);
      const free = [];
      for (let i = 0; i < 6; i++) free.push((await request(p.port, { path: '/free' })).status);
      assert.deepEqual(limited, [200, 200, 429]);
      assert.deepEqual(free, [200, 200, 200, 200, 200, 200]);
    } finally {
      await p.close();
    }
  });
});

/** Istio's global task as route config: PATH from the vhost, `api` from its own route (regex on :path). */
function istioGlobalTable() {
  return routeTable({
    virtualHosts: [
      vhost({
        rateLimits: rateLimitPolicyFromProto(
          [
            create(RateLimitSchema, {
              actions: [
                {
                  actionSpecifier: {
                    case: 'requestHeaders',
                    value: { headerName: ':path', descriptorKey: 'PATH' },
                  },
                },
              ],
            }),
          ],
          'vhost',
        ),
        routes: [
          route({
            name: 'api',
            match: { prefix: '/api/v1/products' },
            route: {
              cluster: 'productpage',
              rateLimits: rateLimitPolicyFromProto(
                [
                  create(RateLimitSchema, {
                    actions: [
                      {
                        actionSpecifier: {
                          case: 'headerValueMatch',
                          value: {
                            descriptorKey: 'PATH',
                            descriptorValue: 'api',
                            expectMatch: true,
                            headers: [
                              {
                                name: ':path',
                                headerMatchSpecifier: {
                                  case: 'stringMatch',
                                  value: {
                                    matchPattern: {
                                      case: 'safeRegex',
                                      value: { regex: '/api/v1/products/[1-9]{1,2}' },
                                    },
                                  },
                                },
                              },
                            ],
                          },
                        },
                      },
                    ],
                  }),
                ],
                'route api',
              ),
            },
          }),
          route({ route: { cluster: 'productpage' } }),
        ],
      }),
    ],
  });
}

function globalFilter(overrides: Partial<GlobalRateLimitConfig> = {}) {
  const config = globalRateLimitFromJson({
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit',
    domain: 'ratelimit',
    failure_mode_deny: true,
    timeout: '2s',
    enable_x_ratelimit_headers: 'DRAFT_VERSION_03',
    rate_limit_service: {
      grpc_service: { envoy_grpc: { cluster_name: 'outbound|8081||ratelimit.default.svc.cluster.local' } },
      transport_api_version: 'V3',
    },
  });
  return {
    name: 'envoy.filters.http.ratelimit',
    kind: 'rateLimit' as const,
    config: { ...config, ...overrides },
  };
}

async function rls(store: CounterStore): Promise<RunningRateLimitServer> {
  const decider = new RateLimitDecider({
    config: parseRateLimitConfig([{ name: 'config.yaml', text: ISTIO_TASK_CONFIG }]),
    store,
    // 10:00:05, so the minute windows cannot roll over mid-test.
    clock: new ManualClock(Date.UTC(2025, 0, 1, 10, 0, 5)),
  });
  return startRateLimitServer({ decider, host: '127.0.0.1', port: 0 });
}

async function statusesOf(port: number, paths: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const path of paths) out.push((await request(port, { path })).status);
  return out;
}

function globalSuite(
  name: string,
  makeStore: () => Promise<{ store: CounterStore; stop(): Promise<void> }>,
  skip?: string,
) {
  describe(name, { skip }, () => {
    let upstream: Upstream;
    let server: RunningRateLimitServer;
    let stop: () => Promise<void>;
    before(async () => {
      upstream = await startUpstream((_req, res) => res.end('productpage'));
      const s = await makeStore();
      stop = s.stop;
      server = await rls(s.store);
    });
    after(async () => {
      await server?.close();
      await stop?.();
      await upstream?.close();
    });

    test("Istio's global task through the pipeline: /productpage 200, 429; /api/v1/products/1..3 200, 200, 429", async () => {
      const clusters = new TestClusters();
      clusters.add({ name: 'productpage', endpoints: [{ port: upstream.port }] });
      clusters.add({
        name: 'outbound|8081||ratelimit.default.svc.cluster.local',
        endpoints: [{ port: server.port }],
        protocol: 'http2',
      });
      const p = await startPipeline({
        config: hcmConfig({ routeConfig: istioGlobalTable(), httpFilters: [globalFilter()] }),
        clusters,
        direction: 'gateway',
      });
      try {
        const first = await request(p.port, { path: '/productpage' });
        assert.equal(first.status, 200, String(first.headers['x-trellis-reason']));
        assert.deepEqual(await statusesOf(p.port, ['/productpage']), [429]);
        assert.deepEqual(
          await statusesOf(p.port, ['/api/v1/products/1', '/api/v1/products/2', '/api/v1/products/3']),
          [200, 200, 429],
        );
        const denied = await request(p.port, { path: '/productpage' });
        assert.equal(denied.headers['x-envoy-ratelimited'], 'true');
        assert.equal(denied.headers['x-ratelimit-limit'], '1, 1;w=60');
        assert.match(
          String(denied.headers['x-trellis-reason']),
          /^RL over the limit of domain "ratelimit" for PATH=\/productpage \(rate limit service cluster "outbound\|8081\|\|ratelimit.default.svc.cluster.local"\)$/,
        );
        assert.equal(
          p.telemetry.stat('cluster.outbound|8081||ratelimit.default.svc.cluster.local.ratelimit.over_limit'),
          3,
        );
        assert.equal(upstream.seen.filter((s) => s.url !== '/reviews').length, 3);
      } finally {
        await p.close();
      }
    });
  });
}

globalSuite('global rate limit, counters in memory', async () => ({
  store: new MemoryCounterStore(),
  stop: async () => {},
}));

let redis: TestRedis | undefined;
globalSuite(
  'global rate limit, counters in Redis',
  async () => {
    redis = await startRedis();
    const store = new RedisCounterStore({ url: redis.url });
    await store.ready();
    return {
      store,
      stop: async () => {
        await store.close();
        await redis?.stop();
      },
    };
  },
  redisSkipReason(),
);

describe('global rate limit failure modes', () => {
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream((_req, res) => res.end('productpage'));
  });
  after(() => upstream.close());

  test('service down: fail open passes the request; failure_mode_deny answers 500 with RLSE', async () => {
    const dead = await deadPort();
    const clusters = new TestClusters();
    clusters.add({ name: 'productpage', endpoints: [{ port: upstream.port }] });
    clusters.add({
      name: 'outbound|8081||ratelimit.default.svc.cluster.local',
      endpoints: [{ port: dead }],
      protocol: 'http2',
    });
    const open = await startPipeline({
      config: hcmConfig({
        routeConfig: istioGlobalTable(),
        httpFilters: [globalFilter({ failureModeDeny: false })],
      }),
      clusters,
      keepClusters: true,
    });
    const closed = await startPipeline({
      config: hcmConfig({
        routeConfig: istioGlobalTable(),
        httpFilters: [globalFilter({ failureModeDeny: true })],
      }),
      clusters,
    });
    try {
      assert.equal((await request(open.port, { path: '/productpage' })).status, 200);
      assert.equal(
        open.telemetry.stat(
          'cluster.outbound|8081||ratelimit.default.svc.cluster.local.ratelimit.failure_mode_allowed',
        ),
        1,
      );
      const r = await request(closed.port, { path: '/productpage' });
      assert.equal(r.status, 500);
      assert.match(
        String(r.headers['x-trellis-reason']),
        /^RLSE rate limit service for domain "ratelimit" failed and failure_mode_deny is set: /,
      );
    } finally {
      await open.close();
      await closed.close();
    }
  });

  test('a route without rate_limits never calls the service', async () => {
    const clusters = new TestClusters();
    clusters.add({ name: 'productpage', endpoints: [{ port: upstream.port }] });
    clusters.add({
      name: 'outbound|8081||ratelimit.default.svc.cluster.local',
      endpoints: [{ port: await deadPort() }],
      protocol: 'http2',
    });
    const p = await startPipeline({
      config: hcmConfig({
        routeConfig: simpleTable(route({ route: { cluster: 'productpage' } })),
        httpFilters: [globalFilter()],
      }),
      clusters,
    });
    try {
      assert.equal((await request(p.port)).status, 200);
      assert.deepEqual(clusters.get('outbound|8081||ratelimit.default.svc.cluster.local')!.attempts, []);
    } finally {
      await p.close();
    }
  });
});
