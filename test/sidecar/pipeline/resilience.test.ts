// Timeouts and retries end to end: every retry_on condition counted at the upstream, back-off, budgets, local replies.
import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type Clock, systemClock } from '../../../src/shared/clock.js';
import { TestClusters } from './clusters.js';
import { deadPort, hcmConfig, request, startPipeline, startUpstream, type Upstream } from './harness.js';
import { retryPolicy, route, routeTable, simpleTable, vhost } from './routes.js';

/** Answers each request with the next status in `statuses` (the last one repeats). */
function scripted(statuses: number[]): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  let i = 0;
  return (_req, res) => {
    const status = statuses[Math.min(i++, statuses.length - 1)]!;
    res.statusCode = status;
    res.end(`status ${status}`);
  };
}

const ACCESS_LOG = [
  {
    path: '/dev/null',
    format: {
      kind: 'text' as const,
      text: '%RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_REQUEST_ATTEMPT_COUNT%\n',
    },
  },
];

describe('retries', () => {
  let upstream: Upstream;
  after(async () => upstream?.close());

  test('5xx: two 503s then 200 → the client sees 200; the upstream saw 3 requests; attempt count sent up', async () => {
    upstream = await startUpstream(scripted([503, 503, 200]));
    const clusters = new TestClusters();
    const c = clusters.add({ name: 'backend', endpoints: [{ port: upstream.port }] });
    const table = routeTable({
      virtualHosts: [
        vhost({
          includeAttemptCount: true,
          routes: [route({ route: { retry: retryPolicy({ retryOn: ['5xx'], numRetries: 2 }) } })],
        }),
      ],
    });
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table, accessLog: ACCESS_LOG }),
      clusters,
    });
    try {
      const r = await request(p.port);
      assert.equal(r.status, 200);
      assert.equal(upstream.seen.length, 3);
      assert.deepEqual(
        upstream.seen.map((s) => s.headers['x-envoy-attempt-count']),
        ['1', '2', '3'],
      );
      assert.deepEqual(
        c.attempts.map((a) => a.retry),
        [false, true, true],
      );
      assert.equal(p.telemetry.stat('cluster.backend.upstream_rq_retry'), 2);
      assert.equal(p.telemetry.stat('cluster.backend.upstream_rq_retry_success'), 1);
      assert.equal(p.telemetry.stat('cluster.backend.upstream_rq_503'), 2);
      await p.telemetry.waitForLines(1);
      assert.equal(p.telemetry.lines[0], '200 - 3\n');
    } finally {
      await p.close();
      await upstream.close();
    }
  });

  test('retries exhausted: the last 503 is returned with URX; 1 + num_retries attempts', async () => {
    upstream = await startUpstream(scripted([503]));
    const clusters = new TestClusters();
    clusters.add({ name: 'backend', endpoints: [{ port: upstream.port }] });
    const table = simpleTable(
      route({ route: { retry: retryPolicy({ retryOn: ['gateway-error'], numRetries: 2 }) } }),
    );
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table, accessLog: ACCESS_LOG }),
      clusters,
    });
    try {
      const r = await request(p.port);
      assert.equal(r.status, 503);
      assert.equal(r.body, 'status 503');
      assert.equal(upstream.seen.length, 3);
      await p.telemetry.waitForLines(1);
      assert.equal(p.telemetry.lines[0], '503 URX 3\n');
      const series = p.telemetry.requestsTotal();
      assert.equal(series[0]!.labels.response_flags, 'URX');
    } finally {
      await p.close();
      await upstream.close();
    }
  });

  test('connect-failure with previous_hosts: the retry avoids the dead endpoint and succeeds', async () => {
    upstream = await startUpstream();
    const dead = await deadPort();
    const clusters = new TestClusters();
    const c = clusters.add({ name: 'backend', endpoints: [{ port: dead }, { port: upstream.port }] });
    const table = simpleTable(
      route({
        route: {
          retry: retryPolicy({
            retryOn: ['connect-failure'],
            numRetries: 2,
            previousHosts: true,
            hostSelectionRetryMaxAttempts: 5,
          }),
        },
      }),
    );
    const p = await startPipeline({ config: hcmConfig({ routeConfig: table }), clusters });
    try {
      const r = await request(p.port);
      assert.equal(r.status, 200);
      assert.equal(upstream.seen.length, 1);
      assert.equal(c.attempts.length, 2);
      assert.deepEqual(c.attempts[1]!.previousHosts, [`127.0.0.1:${dead}`]);
    } finally {
      await p.close();
      await upstream.close();
    }
  });

  test('reset: a connection dropped before the response is retried under `reset`; not under retriable-4xx', async () => {
    let resets = 0;
    upstream = await startUpstream((req, res) => {
      if (req.url === '/4xx' || (req.url === '/reset' && resets === 0)) {
        resets++;
        req.socket.destroy();
      } else res.end('second try');
    });
    const clusters = new TestClusters();
    const c = clusters.add({ name: 'backend', endpoints: [{ port: upstream.port }] });
    const table = simpleTable(
      route({
        match: { prefix: '/reset' },
        route: { retry: retryPolicy({ retryOn: ['reset'], numRetries: 1 }) },
      }),
      route({
        match: { prefix: '/4xx' },
        route: { retry: retryPolicy({ retryOn: ['retriable-4xx'], numRetries: 1 }) },
      }),
    );
    const p = await startPipeline({ config: hcmConfig({ routeConfig: table }), clusters });
    try {
      const r = await request(p.port, { path: '/reset' });
      assert.equal(r.status, 200);
      assert.equal(r.body, 'second try');
      assert.equal(upstream.seen.filter((s) => s.url === '/reset').length, 2);
      assert.equal(c.attempts.length, 2, 'the router retried once');
      const r2 = await request(p.port, { path: '/4xx' });
      assert.equal(r2.status, 503);
      assert.match(
        String(r2.headers['x-trellis-reason']),
        /^UC cluster "backend" endpoint 127\.0\.0\.1:\d+: /,
      );
      assert.equal(c.attempts.length, 3, 'a reset is not a 409: no router retry under retriable-4xx');
    } finally {
      await p.close();
      await upstream.close();
    }
  });

  test('retriable-status-codes and retriable-4xx retry only the codes they name', async () => {
    upstream = await startUpstream((req, res) => {
      const n = upstream.seen.filter((s) => s.url === req.url).length;
      res.statusCode = n === 1 ? (req.url === '/teapot' ? 418 : req.url === '/conflict' ? 409 : 404) : 200;
      res.end();
    });
    const clusters = new TestClusters();
    clusters.add({ name: 'backend', endpoints: [{ port: upstream.port }] });
    const policy = retryPolicy({
      retryOn: ['retriable-status-codes', 'retriable-4xx'],
      retriableStatusCodes: new Set([418]),
      numRetries: 1,
    });
    const table = simpleTable(route({ route: { retry: policy } }));
    const p = await startPipeline({ config: hcmConfig({ routeConfig: table }), clusters });
    try {
      assert.equal((await request(p.port, { path: '/teapot' })).status, 200);
      assert.equal((await request(p.port, { path: '/conflict' })).status, 200);
      assert.equal((await request(p.port, { path: '/missing' })).status, 404);
      const count = (url: string) => upstream.seen.filter((s) => s.url === url).length;
      assert.deepEqual([count('/teapot'), count('/conflict'), count('/missing')], [2, 2, 1]);
    } finally {
      await p.close();
      await upstream.close();
    }
  });

  test('a streamed POST larger than the replay buffer is never sent twice', async () => {
    upstream = await startUpstream(scripted([503, 200]));
    const clusters = new TestClusters();
    clusters.add({ name: 'backend', endpoints: [{ port: upstream.port }] });
    const table = simpleTable(route({ route: { retry: retryPolicy({ retryOn: ['5xx'], numRetries: 3 }) } }));
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table }),
      clusters,
      options: { replayLimitBytes: 1024 },
    });
    try {
      const body = Buffer.alloc(64 * 1024, 'x');
      const r = await request(p.port, { method: 'POST', body, headers: { 'transfer-encoding': 'chunked' } });
      assert.equal(r.status, 503);
      assert.equal(upstream.seen.length, 1);
      assert.equal(upstream.seen[0]!.body.length, 64 * 1024);
      // a small body is replayed and retried
      const small = await request(p.port, { method: 'POST', body: 'tiny' });
      assert.equal(small.status, 200);
      assert.deepEqual(
        upstream.seen.slice(1).map((s) => s.body),
        ['tiny'],
      );
    } finally {
      await p.close();
      await upstream.close();
    }
  });

  test('retry overflow (max_retries / budget refuse): no retry, upstream_rq_retry_overflow, flag UO', async () => {
    upstream = await startUpstream(scripted([503]));
    const clusters = new TestClusters();
    const c = clusters.add({ name: 'backend', endpoints: [{ port: upstream.port }], maxRetries: 0 });
    const table = simpleTable(route({ route: { retry: retryPolicy({ retryOn: ['5xx'], numRetries: 2 }) } }));
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table, accessLog: ACCESS_LOG }),
      clusters,
    });
    try {
      const r = await request(p.port);
      assert.equal(r.status, 503);
      assert.equal(upstream.seen.length, 1);
      assert.equal(c.retriesRefused, 1);
      assert.equal(p.telemetry.stat('cluster.backend.upstream_rq_retry_overflow'), 1);
      await p.telemetry.waitForLines(1);
      assert.equal(p.telemetry.lines[0], '503 UO 1\n');
    } finally {
      await p.close();
      await upstream.close();
    }
  });

  test('back-off: fully jittered exponential from 25 ms, capped at 10 × base (recorded from the injected clock)', async () => {
    upstream = await startUpstream(scripted([503, 503, 503, 503, 200]));
    const clusters = new TestClusters();
    clusters.add({ name: 'backend', endpoints: [{ port: upstream.port }] });
    const waits: number[] = [];
    // Fires every timer at once but records what the pipeline asked for (the server's 1 s sweeper is ignored).
    const clock: Clock = {
      ...systemClock,
      setTimeout: (fn, ms) => {
        if (ms < 1000) waits.push(ms);
        return systemClock.setTimeout(fn, ms < 1000 ? 0 : ms);
      },
    };
    const table = simpleTable(
      route({
        route: {
          retry: retryPolicy({ retryOn: ['5xx'], numRetries: 4, backoffBaseMs: 25, backoffMaxMs: 250 }),
        },
      }),
    );
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table }),
      clusters,
      options: { clock, random: () => 0.999 },
    });
    try {
      const r = await request(p.port);
      assert.equal(r.status, 200);
      // retry N waits below (2^N - 1) × 25 ms, never above 250 ms
      assert.deepEqual(waits, [24, 74, 174, 250]);
    } finally {
      await p.close();
      await upstream.close();
    }
  });
});

describe('timeouts', () => {
  let slow: Upstream;
  const held: http.ServerResponse[] = [];
  before(async () => {
    slow = await startUpstream((req, res) => {
      if (req.url === '/hang-once' && slow.seen.filter((s) => s.url === '/hang-once').length === 1) {
        held.push(res);
        return;
      }
      if (req.url?.startsWith('/slow')) {
        held.push(res);
        return;
      }
      res.end('fast');
    });
  });
  after(async () => {
    for (const r of held) r.destroy();
    await slow.close();
  });

  test('route timeout → 504 UT naming the route and timeout; upstream_rq_timeout counted', async () => {
    const clusters = new TestClusters();
    clusters.add({ name: 'backend', endpoints: [{ port: slow.port }] });
    const table = simpleTable(
      route({
        name: 'slow-route',
        route: { timeoutMs: 150 },
        configPath: '/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews',
      }),
    );
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table, accessLog: ACCESS_LOG }),
      clusters,
    });
    try {
      const started = Date.now();
      const r = await request(p.port, { path: '/slow' });
      const elapsed = Date.now() - started;
      assert.equal(r.status, 504);
      assert.equal(r.body, 'upstream request timeout');
      assert.equal(
        r.headers['x-trellis-reason'],
        'UT route timeout of 150ms to cluster "backend" exceeded (route "slow-route" from /apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews)',
      );
      assert.ok(elapsed >= 140 && elapsed < 2000, `answered after ${elapsed} ms`);
      assert.equal(p.telemetry.stat('cluster.backend.upstream_rq_timeout'), 1);
      await p.telemetry.waitForLines(1);
      assert.equal(p.telemetry.lines[0], '504 UT 1\n');
    } finally {
      await p.close();
    }
  });

  test('per-try timeout then success on the retry', async () => {
    const clusters = new TestClusters();
    clusters.add({ name: 'backend', endpoints: [{ port: slow.port }] });
    const table = simpleTable(
      route({
        route: {
          timeoutMs: 5000,
          retry: retryPolicy({ retryOn: ['5xx'], numRetries: 2, perTryTimeoutMs: 100 }),
        },
      }),
    );
    const p = await startPipeline({ config: hcmConfig({ routeConfig: table }), clusters });
    try {
      const r = await request(p.port, { path: '/hang-once' });
      assert.equal(r.status, 200);
      assert.equal(r.body, 'fast');
      assert.equal(slow.seen.filter((s) => s.url === '/hang-once').length, 2);
      assert.equal(p.telemetry.stat('cluster.backend.upstream_rq_per_try_timeout'), 1);
    } finally {
      await p.close();
    }
  });

  test('x-envoy-upstream-rq-timeout-ms is honoured from the app (trusted) and ignored at the edge', async () => {
    const clusters = new TestClusters();
    clusters.add({ name: 'backend', endpoints: [{ port: slow.port }] });
    const table = simpleTable(route({ route: { timeoutMs: 0 } }));
    const trusted = await startPipeline({
      config: hcmConfig({ routeConfig: table }),
      clusters,
      direction: 'outbound',
    });
    const edge = await startPipeline({
      config: hcmConfig({ routeConfig: table, useRemoteAddress: true }),
      clusters,
      direction: 'gateway',
    });
    try {
      const r = await request(trusted.port, {
        path: '/slow-1',
        headers: { 'x-envoy-upstream-rq-timeout-ms': '100' },
      });
      assert.equal(r.status, 504);
      // From outside (XFF says an external client): the header is dropped and, with no route timeout, the
      // request is not cut short; the route answers once the upstream does.
      const res = request(edge.port, {
        path: '/fast',
        headers: { 'x-envoy-upstream-rq-timeout-ms': '1', 'x-forwarded-for': '203.0.113.7' },
      });
      assert.equal((await res).status, 200);
      const seen = slow.seen.find((s) => s.url === '/fast')!;
      assert.equal(seen.headers['x-envoy-upstream-rq-timeout-ms'], undefined);
    } finally {
      await trusted.close();
      await edge.close();
    }
  });
});

describe('upstream failures become local replies with their flag and reason', () => {
  test('UH (no endpoints), UO (the core refuses: breaker), UF (connection refused)', async () => {
    const dead = await deadPort();
    const clusters = new TestClusters();
    clusters.add({ name: 'empty', endpoints: [] });
    clusters.add({
      name: 'breaker',
      endpoints: [],
      failWith: {
        flag: 'UO',
        reason:
          'cluster "breaker": pending requests over max_pending_requests (1) of DestinationRule default/httpbin',
      },
    });
    clusters.add({ name: 'refused', endpoints: [{ port: dead }] });
    const table = simpleTable(
      route({ match: { prefix: '/uh' }, route: { cluster: 'empty' } }),
      route({ match: { prefix: '/uo' }, route: { cluster: 'breaker' } }),
      route({ match: { prefix: '/uf' }, route: { cluster: 'refused' } }),
    );
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table, accessLog: ACCESS_LOG }),
      clusters,
    });
    try {
      const uh = await request(p.port, { path: '/uh' });
      assert.equal(uh.status, 503);
      assert.equal(uh.body, 'no healthy upstream');
      assert.equal(uh.headers['x-trellis-reason'], 'UH no healthy endpoints in cluster "empty"');
      const uo = await request(p.port, { path: '/uo' });
      assert.equal(uo.status, 503);
      assert.equal(
        uo.headers['x-trellis-reason'],
        'UO cluster "breaker": pending requests over max_pending_requests (1) of DestinationRule default/httpbin',
      );
      const uf = await request(p.port, { path: '/uf' });
      assert.equal(uf.status, 503);
      assert.match(
        String(uf.headers['x-trellis-reason']),
        new RegExp(`^UF cluster "refused" endpoint 127\\.0\\.0\\.1:${dead}: `),
      );
      await p.telemetry.waitForLines(3);
      assert.deepEqual(p.telemetry.lines, ['503 UH 1\n', '503 UO 1\n', '503 UF 1\n']);
      const flags = p.telemetry
        .requestsTotal()
        .map((s) => s.labels.response_flags)
        .sort();
      assert.deepEqual(flags, ['UF', 'UH', 'UO']);
    } finally {
      await p.close();
    }
  });
});
