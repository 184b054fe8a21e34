// The cluster manager under Istio's resilience tasks, end to end through a client sidecar: circuit breaking
// (503 UO, one connection to the backend) and outlier ejection visible in /clusters.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { admin, closeServer, TestMesh as Mesh, type TestMesh, type TestPod, viaProxy } from './harness.js';

let mesh: TestMesh;
let client: TestPod;
const servers: http.Server[] = [];

/** httpbin's /get stand-in that records the most connections it ever held at once. */
let open = 0;
let maxOpen = 0;

async function listen(server: http.Server, host: string, port: number): Promise<void> {
  server.listen(port, host);
  await new Promise((r) => server.once('listening', r));
  servers.push(server);
}

const CIRCUIT_BREAKER = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'httpbin', namespace: 'default' },
  spec: {
    host: 'httpbin',
    trafficPolicy: {
      connectionPool: {
        tcp: { maxConnections: 1 },
        http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 },
      },
      outlierDetection: {
        consecutive5xxErrors: 1,
        interval: '1s',
        baseEjectionTime: '3m',
        maxEjectionPercent: 100,
      },
    },
  },
};

const OUTLIER = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'flaky', namespace: 'default' },
  spec: {
    host: 'flaky',
    trafficPolicy: {
      outlierDetection: {
        consecutive5xxErrors: 1,
        interval: '1s',
        baseEjectionTime: '3m',
        maxEjectionPercent: 100,
      },
    },
  },
};

before(async () => {
  mesh = await Mesh.start({ prefix: '127.33', configs: [CIRCUIT_BREAKER, OUTLIER] });
  mesh.addService('fortio', [{ name: 'http', port: 8080 }]);
  mesh.addService('httpbin', [{ name: 'http', port: 8000 }]);
  mesh.addService('flaky', [{ name: 'http', port: 8000 }]);
  client = await mesh.startPod({ name: 'fortio-0', app: 'fortio', ports: [{ name: 'http', port: 8080 }] });
  const httpbin = await mesh.startPod({
    name: 'httpbin-0',
    app: 'httpbin',
    sidecar: false,
    ports: [{ name: 'http', port: 8000 }],
  });
  const good = await mesh.startPod({
    name: 'flaky-good',
    app: 'flaky',
    sidecar: false,
    ports: [{ name: 'http', port: 8000 }],
  });
  const bad = await mesh.startPod({
    name: 'flaky-bad',
    app: 'flaky',
    version: 'v2',
    sidecar: false,
    ports: [{ name: 'http', port: 8000 }],
  });
  const backend = http.createServer((_req, res) => {
    // A little work, as httpbin does, so that requests overlap.
    setImmediate(() => res.end('{"url": "http://httpbin:8000/get"}'));
  });
  backend.on('connection', (s) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    s.once('close', () => open--);
  });
  await listen(backend, httpbin.appIp, 8000);
  await listen(
    http.createServer((_req, res) => res.end('good')),
    good.appIp,
    8000,
  );
  await listen(
    http.createServer((_req, res) => res.writeHead(503).end('bad')),
    bad.appIp,
    8000,
  );
  await client.sidecar!.whenReady();
});

after(async () => {
  for (const s of servers) await closeServer(s);
  await mesh.stop();
});

/** `fortio load -c <concurrency> -n <total> -qps 0` through the client sidecar. */
async function load(concurrency: number, total: number): Promise<{ status: number; reason: string }[]> {
  const results: { status: number; reason: string }[] = [];
  let sent = 0;
  const worker = async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (sent < total) {
      sent++;
      const res = await viaProxy(client, 'http://httpbin:8000/get', { agent });
      results.push({ status: res.status, reason: String(res.headers['x-trellis-reason'] ?? '') });
    }
    agent.destroy();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

async function statValue(name: string): Promise<number> {
  const res = await admin(client, `/stats?filter=${encodeURIComponent(`^${name.replaceAll('|', '\\|')}$`)}`);
  const m = /: (\d+)/.exec(res.body);
  return m ? Number(m[1]) : 0;
}

describe("Istio's circuit-breaking task", () => {
  const cluster = 'cluster.outbound|8000||httpbin.default.svc.cluster.local';

  test('one request gets through', async () => {
    const res = await viaProxy(client, 'http://httpbin:8000/get');
    assert.equal(res.status, 200);
  });

  test('-c 2 then -c 3: some, then more 503 UO; the backend never holds more than one connection', async (t) => {
    maxOpen = 0;
    const overflowBefore = await statValue(`${cluster}.upstream_rq_pending_overflow`);
    const c2 = await load(2, 20);
    const c3 = await load(3, 30);
    const refused = (r: { status: number }[]) => r.filter((x) => x.status === 503).length;
    t.diagnostic(
      `c=2: ${20 - refused(c2)} × 200, ${refused(c2)} × 503; c=3: ${30 - refused(c3)} × 200, ${refused(c3)} × 503`,
    );
    for (const r of [...c2, ...c3]) {
      assert.ok(r.status === 200 || r.status === 503, `unexpected status ${r.status}`);
      if (r.status === 503)
        assert.match(r.reason, /^UO upstream overflow in cluster "outbound\|8000\|\|httpbin/);
    }
    assert.ok(refused(c2) > 0, 'some requests overflow at c=2');
    assert.ok(refused(c3) / 30 > refused(c2) / 20, 'a larger share overflows at c=3');
    assert.ok(
      c3.some((r) => r.status === 200),
      'requests still get through at c=3',
    );
    assert.equal(maxOpen, 1, 'the backend never saw more than one connection');
    const overflow = (await statValue(`${cluster}.upstream_rq_pending_overflow`)) - overflowBefore;
    assert.equal(overflow, refused(c2) + refused(c3), 'every 503 is counted as upstream_rq_pending_overflow');
  });
});

describe('outlier detection', () => {
  test('a host answering 503 is ejected, shows failed_outlier_check in /clusters, and gets no more traffic', async () => {
    let saw503 = false;
    for (let i = 0; i < 20 && !saw503; i++) {
      const res = await viaProxy(client, 'http://flaky:8000/');
      saw503 = res.status === 503 && res.body === 'bad';
    }
    assert.ok(saw503, 'the bad host was picked at least once');
    const clusters = await admin(client, '/clusters');
    const flags = clusters.body
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('outbound|8000||flaky.default.svc.cluster.local::') && l.includes('::health_flags::'),
      );
    assert.equal(flags.length, 2, clusters.body);
    assert.equal(flags.filter((l) => l.endsWith('::health_flags::/failed_outlier_check')).length, 1);
    assert.equal(flags.filter((l) => l.endsWith('::health_flags::healthy')).length, 1);
    const json = JSON.parse((await admin(client, '/clusters?format=json')).body);
    const flaky = json.cluster_statuses.find((c: { name: string }) => c.name.includes('flaky'));
    assert.equal(
      flaky.host_statuses.filter(
        (h: { health_status: { failed_outlier_check?: boolean } }) => h.health_status.failed_outlier_check,
      ).length,
      1,
    );
    for (let i = 0; i < 10; i++) {
      const res = await viaProxy(client, 'http://flaky:8000/');
      assert.equal(res.body, 'good', 'the ejected host gets nothing');
    }
    const ejected = await statValue(
      'cluster.outbound|8000||flaky.default.svc.cluster.local.outlier_detection.ejections_active',
    );
    assert.equal(ejected, 1);
  });
});
