// Fault injection end to end: a delay (DI) for one user only, aborts (FI) by percentage, per-route override.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FaultConfig } from '../../../src/sidecar/config/model.js';
import { TestClusters } from './clusters.js';
import { hcmConfig, request, seededRandom, startPipeline, startUpstream, type Upstream } from './harness.js';
import { exactHeader, route, simpleTable } from './routes.js';

const FAULT_FILTER = { name: 'envoy.filters.http.fault', kind: 'fault' as const, config: {} };
const LOG = [
  { path: '/dev/null', format: { kind: 'text' as const, text: '%RESPONSE_CODE% %RESPONSE_FLAGS%\n' } },
];

describe('fault filter', () => {
  let ratings: Upstream;
  let clusters: TestClusters;
  before(async () => {
    ratings = await startUpstream((_req, res) => res.end('{"ratings":{"Reviewer1":5}}'));
    clusters = new TestClusters();
    clusters.add({ name: 'ratings-v1', endpoints: [{ port: ratings.port }] });
  });
  after(async () => {
    clusters.close();
    await ratings.close();
  });

  test('Bookinfo ratings-test-delay: jason is delayed (DI), others are not', async () => {
    const delay: FaultConfig = { delay: { fixedDelayMs: 300, percentage: { fraction: 1 } } };
    const table = simpleTable(
      route({
        name: 'jason',
        match: { headers: [exactHeader('end-user', 'jason')] },
        fault: delay,
        route: { cluster: 'ratings-v1' },
      }),
      route({ name: 'others', route: { cluster: 'ratings-v1' } }),
    );
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table, httpFilters: [FAULT_FILTER], accessLog: LOG }),
      clusters,
      keepClusters: true,
    });
    try {
      let t = Date.now();
      const fast = await request(p.port, { path: '/ratings/0' });
      const fastMs = Date.now() - t;
      t = Date.now();
      const slow = await request(p.port, { path: '/ratings/0', headers: { 'end-user': 'jason' } });
      const slowMs = Date.now() - t;
      assert.equal(fast.status, 200);
      assert.equal(slow.status, 200);
      assert.equal(slow.body, '{"ratings":{"Reviewer1":5}}');
      assert.ok(slowMs >= 290, `jason waited ${slowMs} ms`);
      assert.ok(fastMs < 290, `others waited ${fastMs} ms`);
      await p.telemetry.waitForLines(2);
      assert.deepEqual(p.telemetry.lines, ['200 -\n', '200 DI\n']);
      assert.equal(p.telemetry.stat('http.outbound_0.0.0.0_9080.fault.delays_injected'), 1);
    } finally {
      await p.close();
    }
  });

  test('Bookinfo ratings-test-abort: jason gets 500 FI at once, the upstream never sees it', async () => {
    const before = ratings.seen.length;
    const abort: FaultConfig = { abort: { httpStatus: 500, percentage: { fraction: 1 } } };
    const table = simpleTable(
      route({
        name: 'jason',
        match: { headers: [exactHeader('end-user', 'jason')] },
        fault: abort,
        configPath: '/apis/networking.istio.io/v1/namespaces/default/virtual-service/ratings',
        route: { cluster: 'ratings-v1' },
      }),
      route({ name: 'others', route: { cluster: 'ratings-v1' } }),
    );
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table, httpFilters: [FAULT_FILTER], accessLog: LOG }),
      clusters,
      keepClusters: true,
    });
    try {
      const r = await request(p.port, { headers: { 'end-user': 'jason' } });
      assert.equal(r.status, 500);
      assert.equal(r.body, 'fault filter abort');
      assert.equal(
        r.headers['x-trellis-reason'],
        'FI fault injected by route "jason" from /apis/networking.istio.io/v1/namespaces/default/virtual-service/ratings: abort with 500',
      );
      assert.equal((await request(p.port)).status, 200);
      assert.equal(ratings.seen.length, before + 1);
      await p.telemetry.waitForLines(2);
      assert.equal(p.telemetry.lines[0], '500 FI\n');
    } finally {
      await p.close();
    }
  });

  test('an abort at 30% aborts about 30% of requests; the listener config applies when the route has none', async () => {
    const listenerFault = {
      ...FAULT_FILTER,
      config: { abort: { httpStatus: 503, percentage: { fraction: 0.3 } } },
    };
    const table = simpleTable(route({ route: { cluster: 'ratings-v1' } }));
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table, httpFilters: [listenerFault] }),
      clusters,
      keepClusters: true,
      options: { random: seededRandom(7) },
    });
    try {
      let aborted = 0;
      for (let i = 0; i < 400; i++) if ((await request(p.port)).status === 503) aborted++;
      assert.ok(aborted > 90 && aborted < 150, `${aborted} of 400 aborted`);
      assert.equal(p.telemetry.stat('http.outbound_0.0.0.0_9080.fault.aborts_injected'), aborted);
    } finally {
      await p.close();
    }
  });

  test('x-envoy-fault-* headers do nothing unless header control is enabled', async () => {
    const fault = { ...FAULT_FILTER, config: { abort: { httpStatus: 503, percentage: { fraction: 0 } } } };
    const table = simpleTable(route({ route: { cluster: 'ratings-v1' } }));
    const off = await startPipeline({
      config: hcmConfig({ routeConfig: table, httpFilters: [fault] }),
      clusters,
      keepClusters: true,
    });
    const on = await startPipeline({
      config: hcmConfig({ routeConfig: table, httpFilters: [fault] }),
      clusters,
      keepClusters: true,
      options: { faultHeaders: { abort: true } },
    });
    const headers = { 'x-envoy-fault-abort-request': '418', 'x-envoy-fault-abort-request-percentage': '100' };
    try {
      assert.equal((await request(off.port, { headers })).status, 200);
      assert.equal((await request(on.port, { headers })).status, 418);
    } finally {
      await off.close();
      await on.close();
    }
  });
});
