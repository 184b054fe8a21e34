// Draining: responses say connection: close (HTTP/1.1) or GOAWAY (HTTP/2); drain() waits for in-flight requests.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { TestClusters } from './clusters.js';
import { h2Session, hcmConfig, startPipeline, startUpstream, type Upstream } from './harness.js';
import { route, simpleTable } from './routes.js';

describe('draining', () => {
  let upstream: Upstream;
  const held: ServerResponse[] = [];
  const heldArrived: (() => void)[] = [];
  before(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === '/hold') {
        held.push(res);
        for (const w of heldArrived.splice(0)) w();
      } else res.end('ok');
    });
  });
  after(async () => {
    for (const r of held) r.destroy();
    await upstream.close();
  });

  /** The response, with the socket it came on (the agent takes the socket back at 'end'). */
  function keepAliveGet(
    agent: http.Agent,
    port: number,
    path = '/',
  ): Promise<http.IncomingMessage & { via: import('node:net').Socket }> {
    return new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path, agent }, (res) => {
          const via = res.socket;
          res.resume();
          res.on('end', () => resolve(Object.assign(res, { via })));
        })
        .on('error', reject);
    });
  }

  test('HTTP/1.1: once draining, the response carries connection: close and the connection ends', async () => {
    let draining = false;
    const clusters = new TestClusters();
    clusters.add({ name: 'backend', endpoints: [{ port: upstream.port }] });
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: simpleTable(route({ route: { cluster: 'backend' } })) }),
      clusters,
      draining: () => draining,
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await keepAliveGet(agent, p.port);
      assert.notEqual(first.headers.connection, 'close');
      const socket = first.via;
      draining = true;
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const second = await keepAliveGet(agent, p.port);
      assert.equal(second.via, socket, 'the second request reused the connection');
      assert.equal(second.headers.connection, 'close');
      await closed;
      // a new connection during drain is served, with connection: close
      const third = await keepAliveGet(agent, p.port);
      assert.equal(third.statusCode, 200);
      assert.equal(third.headers.connection, 'close');
    } finally {
      agent.destroy();
      await p.close();
    }
  });

  test('HTTP/2: once draining, the session receives GOAWAY after the request completes', async () => {
    let draining = false;
    const clusters = new TestClusters();
    clusters.add({ name: 'backend', endpoints: [{ port: upstream.port }] });
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: simpleTable(route({ route: { cluster: 'backend' } })) }),
      clusters,
      draining: () => draining,
    });
    const session = h2Session(p.port);
    try {
      const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
      draining = true;
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':path': '/' });
        let s = 0;
        req.on('response', (h) => {
          s = Number(h[':status']);
        });
        req.on('end', () => resolve(s));
        req.on('error', reject);
        req.resume();
        req.end();
      });
      assert.equal(status, 200);
      await goaway;
    } finally {
      session.destroy();
      await p.close();
    }
  });

  test('drain(deadline) resolves when the in-flight request finishes, or at the deadline', async () => {
    const clusters = new TestClusters();
    clusters.add({ name: 'backend', endpoints: [{ port: upstream.port }] });
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: simpleTable(route({ route: { cluster: 'backend' } })) }),
      clusters,
      keepClusters: true,
    });
    const agent = new http.Agent({ keepAlive: false });
    try {
      const arrived = new Promise<void>((resolve) => heldArrived.push(resolve));
      const inFlight = keepAliveGet(agent, p.port, '/hold');
      await arrived;
      let drained = false;
      const drain = p.hcm.drain(10_000).then(() => {
        drained = true;
      });
      // still in flight: the drain waits
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.equal(drained, false);
      held.shift()!.end('released');
      const res = await inFlight;
      assert.equal(res.statusCode, 200);
      await drain;
      assert.equal(drained, true);
    } finally {
      agent.destroy();
      await p.close();
    }
    const q = await startPipeline({
      config: hcmConfig({ routeConfig: simpleTable(route({ route: { cluster: 'backend' } })) }),
      clusters,
    });
    const agent2 = new http.Agent({ keepAlive: false });
    try {
      const arrived = new Promise<void>((resolve) => heldArrived.push(resolve));
      const inFlight = keepAliveGet(agent2, q.port, '/hold').catch((e: Error) => e);
      await arrived;
      const started = Date.now();
      await q.hcm.drain(100);
      const waited = Date.now() - started;
      assert.ok(waited >= 90 && waited < 5000, `drain returned after ${waited} ms`);
      assert.ok((await inFlight) instanceof Error, 'the request still in flight at the deadline was cut');
    } finally {
      agent2.destroy();
      await q.close();
    }
  });
});
