// The cluster manager against real backends: DNS clusters that re-resolve, a removed cluster that drains,
// the upstream bind address, TLS origination with files and SAN checks, and the circuit breaker's limits.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../../shared/clock.js';
import { StatsStore } from '../../../telemetry/stats/store.js';
import type { ClusterConfig, EndpointSet } from '../../config/model.js';
import { clusterFromJson } from '../../config/testing/resources.js';
import { readBody } from '../../http/body.js';
import { Cancellation } from '../../http/cancel.js';
import { createRequest } from '../../http/message.js';
import { responseOutcome } from '../outlier/outcome.js';
import { SidecarClusterManager } from './cluster-manager.js';
import { UpstreamTlsProvider } from './upstream-tls.js';

const servers: net.Server[] = [];
let dir = '';

async function listen<S extends net.Server>(server: S, host: string, port = 0): Promise<number> {
  server.listen(port, host);
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as net.AddressInfo).port;
}

/** An HTTP backend answering with its own address and the caller's. */
function whoAmI(name: string): http.RequestListener {
  return (req, res) => res.end(JSON.stringify({ name, from: req.socket.remoteAddress }));
}

function staticCluster(name: string, port: number, extra: Record<string, unknown> = {}, host = '127.0.0.1') {
  return clusterFromJson({
    name,
    type: 'STATIC',
    connectTimeout: '1s',
    loadAssignment: {
      clusterName: name,
      endpoints: [
        { lbEndpoints: [{ endpoint: { address: { socketAddress: { address: host, portValue: port } } } }] },
      ],
    },
    ...extra,
  });
}

function manager(opts: Partial<ConstructorParameters<typeof SidecarClusterManager>[0]> = {}) {
  return new SidecarClusterManager({ stats: new StatsStore(), tls: new UpstreamTlsProvider(), ...opts });
}

function apply(m: SidecarClusterManager, clusters: ClusterConfig[], endpoints: EndpointSet[] = []): void {
  m.apply({
    clusters: new Map(clusters.map((c) => [c.name, c])),
    endpoints: new Map(endpoints.map((e) => [e.clusterName, e])),
  });
}

async function get(
  m: SidecarClusterManager,
  cluster: string,
  path = '/',
): Promise<{ status: number; body: string }> {
  const c = m.get(cluster);
  assert.ok(c, `cluster ${cluster} exists`);
  const attempt = await c.request(createRequest({ method: 'GET', path, authority: 'test' }), {
    signal: new Cancellation(),
  });
  const body = (await readBody(attempt.response.body)).data.toString();
  attempt.done(responseOutcome(attempt.response.status));
  return { status: attempt.response.status, body };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-clusters-'));
});

after(() => {
  for (const s of servers) {
    (s as http.Server).closeAllConnections?.();
    s.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('DNS clusters', () => {
  test('STRICT_DNS resolves with the injected resolver and follows a changed answer on refresh', async () => {
    const port = await listen(http.createServer(whoAmI('one')), '127.0.0.1');
    await listen(http.createServer(whoAmI('two')), '127.0.0.2', port);
    const clock = new ManualClock();
    let answer = ['127.0.0.1'];
    const asked: string[] = [];
    const m = manager({
      clock,
      lookup: async (name) => {
        asked.push(name);
        return answer;
      },
    });
    const config = clusterFromJson({
      name: 'outbound|80||backend.example',
      type: 'STRICT_DNS',
      connectTimeout: '1s',
      loadAssignment: {
        clusterName: 'outbound|80||backend.example',
        endpoints: [
          {
            lbEndpoints: [
              { endpoint: { address: { socketAddress: { address: 'backend.example', portValue: port } } } },
            ],
          },
        ],
      },
    });
    apply(m, [config]);
    const c = m.get(config.name)!;
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(asked, ['backend.example']);
    assert.equal(c.hosts.map((h) => h.address).join(), '127.0.0.1');
    assert.equal(JSON.parse((await get(m, config.name)).body).name, 'one');
    answer = ['127.0.0.2'];
    clock.advance(5000);
    await new Promise((r) => setImmediate(r));
    assert.equal(c.hosts.map((h) => h.address).join(), '127.0.0.2');
    assert.equal(JSON.parse((await get(m, config.name)).body).name, 'two');
    m.destroy();
  });
});

describe('cluster removal', () => {
  test('a cluster removed from CDS finishes its in-flight request, then is gone with its stats', async () => {
    let release: (() => void) | undefined;
    const port = await listen(
      http.createServer((_req, res) => {
        release = () => res.end('late');
      }),
      '127.0.0.1',
    );
    const stats = new StatsStore();
    const m = manager({ stats });
    const config = staticCluster('doomed', port);
    apply(m, [config]);
    const inflight = get(m, 'doomed');
    while (!release) await new Promise((r) => setImmediate(r));
    assert.ok(stats.get('cluster.doomed.upstream_rq_total'));
    apply(m, []);
    assert.equal(m.get('doomed'), undefined);
    assert.equal(stats.get('cluster.doomed.upstream_rq_total'), undefined);
    release();
    assert.deepEqual(await inflight, { status: 200, body: 'late' });
    m.destroy();
  });
});

describe('connections', () => {
  test('upstream_bind_config: HTTP and tcp_proxy connections leave from 127.0.0.6', async () => {
    const port = await listen(http.createServer(whoAmI('bound')), '127.0.0.1');
    const m = manager();
    apply(m, [
      staticCluster('bound', port, {
        upstreamBindConfig: { sourceAddress: { address: '127.0.0.6', portValue: 0 } },
      }),
    ]);
    assert.equal(JSON.parse((await get(m, 'bound')).body).from, '127.0.0.6');
    const tcp = await m.get('bound')!.connect();
    assert.equal(tcp.socket.localAddress, '127.0.0.6');
    tcp.socket.destroy();
    tcp.done();
    m.destroy();
  });

  test('max_requests overflows with 503 UO naming the limit; max_retries caps retries in flight', async () => {
    let release: (() => void) | undefined;
    const port = await listen(
      http.createServer((_req, res) => {
        release = () => res.end('ok');
      }),
      '127.0.0.1',
    );
    const m = manager();
    apply(m, [
      staticCluster('small', port, { circuitBreakers: { thresholds: [{ maxRequests: 1, maxRetries: 1 }] } }),
    ]);
    const first = get(m, 'small');
    while (!release) await new Promise((r) => setImmediate(r));
    await assert.rejects(get(m, 'small'), (e: { flag: string; reason: string }) => {
      assert.equal(e.flag, 'UO');
      assert.match(e.reason, /cluster "small": max_requests \(1\) reached/);
      return true;
    });
    release();
    assert.equal((await first).status, 200);
    const c = m.get('small')!;
    assert.equal(c.tryStartRetry(), true);
    assert.equal(c.tryStartRetry(), false, 'a second retry in flight overflows max_retries');
    c.retryFinished();
    assert.equal(c.tryStartRetry(), true);
    c.retryFinished();
    m.destroy();
  });
});

describe('TLS origination with files', () => {
  const hasOpenssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  const skip = hasOpenssl ? false : 'openssl is not installed';
  let port = 0;

  before(async () => {
    if (!hasOpenssl) return;
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/O=test-ca');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:backend.example\n');
    run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=backend');
    run(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'san.ext',
      '-out',
      'server.pem',
    );
    const server = https.createServer(
      { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) },
      whoAmI('tls'),
    );
    port = await listen(server, '127.0.0.1');
  });

  function originating(name: string, san: string) {
    return staticCluster(name, port, {
      transportSocket: {
        name: 'envoy.transport_sockets.tls',
        typedConfig: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
          sni: 'backend.example',
          commonTlsContext: {
            validationContext: {
              trustedCa: { filename: join(dir, 'ca.pem') },
              matchTypedSubjectAltNames: [{ sanType: 'DNS', matcher: { exact: san } }],
            },
          },
        },
      },
    });
  }

  test('the server is verified against the CA file and its DNS SAN', { skip }, async () => {
    const m = manager();
    apply(m, [originating('tls-ok', 'backend.example')]);
    assert.deepEqual(await get(m, 'tls-ok'), {
      status: 200,
      body: JSON.stringify({ name: 'tls', from: '127.0.0.1' }),
    });
    m.destroy();
  });

  test('a certificate without the SAN the cluster asks for is refused (UF, naming both)', {
    skip,
  }, async () => {
    const m = manager();
    apply(m, [originating('tls-wrong', 'other.example')]);
    await assert.rejects(get(m, 'tls-wrong'), (e: { flag: string; reason: string }) => {
      assert.equal(e.flag, 'UF');
      assert.match(e.reason, /DNS:backend\.example/);
      assert.match(e.reason, /allowed: DNS:other\.example/);
      return true;
    });
    m.destroy();
  });
});
