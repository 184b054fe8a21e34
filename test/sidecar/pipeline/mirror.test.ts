// Mirroring end to end: the shadow cluster sees a copy with `-shadow` on the authority; the real request never waits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClusters } from './clusters.js';
import {
  deadPort,
  hcmConfig,
  request,
  seededRandom,
  startPipeline,
  startUpstream,
  type Upstream,
} from './harness.js';
import { route, simpleTable } from './routes.js';

describe('request mirroring', () => {
  let v1: Upstream;
  let v2: Upstream;
  let shadowArrivals: (() => void)[] = [];
  before(async () => {
    v1 = await startUpstream((_req, res) => res.end('v1'));
    v2 = await startUpstream((_req, res) => {
      res.end('v2 (discarded)');
      for (const w of shadowArrivals.splice(0)) w();
    });
  });
  after(async () => {
    await v1.close();
    await v2.close();
  });
  const shadowArrived = () => new Promise<void>((resolve) => shadowArrivals.push(resolve));

  test("Istio's mirroring task: httpbin v1 answers, v2 sees the same request as httpbin-shadow:8000, body included", async () => {
    const clusters = new TestClusters();
    clusters.add({ name: 'httpbin-v1', endpoints: [{ port: v1.port }] });
    clusters.add({ name: 'httpbin-v2', endpoints: [{ port: v2.port }] });
    const table = simpleTable(
      route({ route: { cluster: 'httpbin-v1', mirrors: [{ cluster: 'httpbin-v2', fraction: 1 }] } }),
    );
    const p = await startPipeline({ config: hcmConfig({ routeConfig: table }), clusters });
    try {
      const arrived = shadowArrived();
      const r = await request(p.port, {
        method: 'POST',
        path: '/anything',
        body: 'payload',
        headers: { host: 'httpbin:8000' },
      });
      assert.equal(r.body, 'v1');
      await arrived;
      const shadow = v2.seen.at(-1)!;
      assert.equal(shadow.headers.host, 'httpbin-shadow:8000');
      assert.equal(shadow.url, '/anything');
      assert.equal(shadow.body, 'payload');
      assert.equal(v1.seen.at(-1)!.headers.host, 'httpbin:8000');
      assert.equal(v1.seen.at(-1)!.body, 'payload');
    } finally {
      await p.close();
    }
  });

  test('a mirror fraction of 0.5 mirrors about half; a dead shadow cluster changes nothing for the client', async () => {
    const dead = await deadPort();
    const clusters = new TestClusters();
    clusters.add({ name: 'httpbin-v1', endpoints: [{ port: v1.port }] });
    clusters.add({ name: 'httpbin-v2', endpoints: [{ port: v2.port }] });
    clusters.add({ name: 'dead', endpoints: [{ port: dead }] });
    const table = simpleTable(
      route({
        match: { prefix: '/half' },
        route: { cluster: 'httpbin-v1', mirrors: [{ cluster: 'httpbin-v2', fraction: 0.5 }] },
      }),
      route({
        route: {
          cluster: 'httpbin-v1',
          mirrors: [
            { cluster: 'dead', fraction: 1 },
            { cluster: 'missing', fraction: 1 },
          ],
        },
      }),
    );
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table }),
      clusters,
      options: { random: seededRandom(3) },
    });
    try {
      const before = v2.seen.length;
      let mirrored = 0;
      for (let i = 0; i < 200; i++) {
        const arrived = shadowArrived();
        assert.equal((await request(p.port, { path: '/half' })).body, 'v1');
        // the shadow copy (if any) has been sent by the time the real answer is back; wait for it when sent
        if (clusters.get('httpbin-v2')!.attempts.length > mirrored) {
          mirrored++;
          await arrived;
        } else shadowArrivals = [];
      }
      assert.equal(v2.seen.length - before, mirrored);
      assert.ok(mirrored > 75 && mirrored < 125, `${mirrored} of 200 mirrored`);
      const r = await request(p.port, { path: '/other' });
      assert.equal(r.status, 200);
      assert.equal(r.body, 'v1');
    } finally {
      await p.close();
    }
  });
});
