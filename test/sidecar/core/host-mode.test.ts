// Host mode (no root): apps talk through their sidecars' explicit proxy and per-port inbound listeners, with a
// real control plane and CA: HTTP/1.1 and gRPC over mutual TLS, TCP, a server-first protocol on a sniffed port,
// STRICT vs PERMISSIVE inbound, and secure naming refusing an impostor.

import assert from 'node:assert/strict';
import type http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  chat,
  EchoClient,
  type EchoClientInstance,
  meshClient,
  meshConnect,
  serverStream,
  startBannerApp,
  startGrpcApp,
  tcpExchange,
  unary,
} from './apps.js';
import {
  admin,
  closeServer,
  eventually,
  TestMesh as Mesh,
  startEchoApp,
  startHttpApp,
  type TestMesh,
  type TestPod,
  viaProxy,
} from './harness.js';

let mesh: TestMesh;
let sleep: TestPod;
let web: TestPod;
let grpcPod: TestPod;
let echo: TestPod;
let banner: TestPod;
let strict: TestPod;
let impostor: TestPod;
let guarded: TestPod;
const servers: (http.Server | net.Server)[] = [];
let grpcServer: grpc.Server;

const GUARD_POLICY = {
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'guarded', namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: 'guarded' } },
    action: 'ALLOW',
    rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/allowed'] } }] }],
  },
};

const STRICT_POLICY = {
  apiVersion: 'security.istio.io/v1',
  kind: 'PeerAuthentication',
  metadata: { name: 'strict', namespace: 'default' },
  spec: { selector: { matchLabels: { app: 'strict' } }, mtls: { mode: 'STRICT' } },
};

before(async () => {
  mesh = await Mesh.start({ prefix: '127.31', configs: [STRICT_POLICY, GUARD_POLICY] });
  mesh.addService('sleep', [{ name: 'http', port: 80 }]);
  mesh.addService('web', [{ name: 'http', port: 9080 }]);
  mesh.addService('grpc', [{ name: 'grpc', port: 50051 }]);
  mesh.addService('echo', [{ name: 'tcp', port: 9000 }]);
  mesh.addService('banner', [{ name: 'banner', port: 9100 }]);
  mesh.addService('strict', [
    { name: 'http', port: 9080 },
    { name: 'tcp', port: 9000 },
  ]);
  mesh.addService('secure', [{ name: 'http', port: 9080 }]);
  mesh.addService('guarded', [{ name: 'tcp', port: 9000 }]);
  sleep = await mesh.startPod({ name: 'sleep-0', app: 'sleep', ports: [{ name: 'http', port: 80 }] });
  web = await mesh.startPod({ name: 'web-v1-0', app: 'web', ports: [{ name: 'http', port: 9080 }] });
  grpcPod = await mesh.startPod({ name: 'grpc-0', app: 'grpc', ports: [{ name: 'grpc', port: 50051 }] });
  echo = await mesh.startPod({ name: 'echo-0', app: 'echo', ports: [{ name: 'tcp', port: 9000 }] });
  banner = await mesh.startPod({ name: 'banner-0', app: 'banner', ports: [{ name: 'banner', port: 9100 }] });
  strict = await mesh.startPod({
    name: 'strict-0',
    app: 'strict',
    ports: [
      { name: 'http', port: 9080 },
      { name: 'tcp', port: 9000 },
    ],
  });
  impostor = await mesh.startPod({
    name: 'secure-0',
    app: 'secure',
    ports: [{ name: 'http', port: 9080 }],
    certServiceAccount: 'evil',
  });
  guarded = await mesh.startPod({ name: 'guarded-0', app: 'guarded', ports: [{ name: 'tcp', port: 9000 }] });
  servers.push(await startEchoApp(guarded.appIp, 9000, 'guarded:'));
  servers.push(await startHttpApp(web.appIp, 9080, 'web-v1'));
  servers.push(await startHttpApp(strict.appIp, 9080, 'strict'));
  servers.push(await startHttpApp(impostor.appIp, 9080, 'secure'));
  servers.push(await startEchoApp(echo.appIp, 9000, 'echo:'));
  servers.push(await startEchoApp(strict.appIp, 9000, 'strict:'));
  servers.push(await startBannerApp(banner.appIp, 9100, '220 banner ready\r\n'));
  grpcServer = await startGrpcApp(grpcPod.appIp, 50051, 'grpc-0');
  await Promise.all(mesh.pods.map((p) => p.sidecar!.whenReady()));
});

after(async () => {
  grpcServer?.forceShutdown();
  for (const s of servers) await closeServer(s);
  await mesh.stop();
});

/** Writes without half-closing and collects everything until the server closes. */
function readUntilClose(s: net.Socket, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      out += d;
    });
    s.on('close', () => resolve(out));
    s.on('error', reject);
    s.write(payload);
  });
}

describe('HTTP/1.1', () => {
  test('a request crosses both sidecars over mutual TLS and reaches the app unchanged', async () => {
    const res = await viaProxy(sleep, 'http://web.default.svc.cluster.local:9080/hello?x=1', {
      method: 'POST',
      body: 'payload',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(res.status, 200, `${res.headers['x-trellis-reason']} ${res.body}`);
    const got = JSON.parse(res.body);
    assert.deepEqual(
      { server: got.server, method: got.method, url: got.url, body: got.body },
      { server: 'web-v1', method: 'POST', url: '/hello?x=1', body: 'payload' },
    );
    // The server sidecar saw the client's SPIFFE identity: the hop was mutual TLS.
    const stats = await admin(web, '/stats/prometheus');
    const line = stats.body
      .split('\n')
      .find((l) => l.startsWith('istio_requests_total{') && l.includes('reporter="destination"'));
    assert.ok(line, 'the server sidecar reports the request');
    assert.match(line, /connection_security_policy="mutual_tls"/);
    assert.match(line, /source_principal="spiffe:\/\/cluster.local\/ns\/default\/sa\/sleep"/);
    assert.match(line, /destination_principal="spiffe:\/\/cluster.local\/ns\/default\/sa\/web"/);
  });

  test('the short name and keep-alive both work: ten requests on one client connection', async () => {
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 10; i++) {
        const res = await viaProxy(sleep, `http://web:9080/n/${i}`, { agent });
        assert.equal(res.status, 200);
        assert.equal(JSON.parse(res.body).url, `/n/${i}`);
      }
    } finally {
      agent.destroy();
    }
  });

  test('an unknown host goes to PassthroughCluster, which cannot loop back into the explicit proxy (503 UH)', async () => {
    const res = await viaProxy(sleep, 'http://nowhere.example:9080/');
    assert.equal(res.status, 503);
    assert.match(String(res.headers['x-trellis-reason']), /^UH .*PassthroughCluster.*own listener/);
  });
});

describe('gRPC over h2', () => {
  let client: EchoClientInstance;
  before(() => {
    client = new EchoClient(`${sleep.ip}:15080`, grpc.credentials.createInsecure(), {
      'grpc.default_authority': 'grpc.default.svc.cluster.local:50051',
    }) as EchoClientInstance;
  });
  after(() => client.close());

  test('unary call', async () => {
    assert.deepEqual(await unary(client, 'hi'), { echo: 'hi', server: 'grpc-0' });
  });

  test('server streaming and bidirectional streaming keep every message in order', async () => {
    const counted = await serverStream(client, 50);
    assert.deepEqual(
      counted.map((m) => m.i),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    const replies = await chat(client, ['a', 'b', 'c']);
    assert.deepEqual(
      replies.map((m) => m.reply),
      ['re: a', 're: b', 're: c'],
    );
  });
});

describe('TCP', () => {
  test('mesh mTLS to an inbound TCP port is proxied to the app, half-close included', async () => {
    const m = await meshClient(mesh.cp, 'sleep');
    try {
      const s = await meshConnect(m.tls, {
        host: echo.ip,
        port: 9000,
        alpn: ['istio-peer-exchange', 'istio'],
        allowed: ['spiffe://cluster.local/ns/default/sa/echo'],
      });
      assert.equal(await tcpExchange(s, 'ping'), 'echo:ping');
    } finally {
      m.stop();
    }
  });

  test('PERMISSIVE accepts plaintext TCP', async () => {
    const s = net.connect(9000, echo.ip);
    assert.equal(await tcpExchange(s, 'plain'), 'echo:plain');
  });
});

describe('network RBAC (AuthorizationPolicy on a TCP port)', () => {
  test('the allowed principal gets through; anyone else is closed before a byte reaches the app', async () => {
    const allowed = await meshClient(mesh.cp, 'allowed');
    const other = await meshClient(mesh.cp, 'sleep');
    const connect = (m: typeof allowed) =>
      meshConnect(m.tls, {
        host: guarded.ip,
        port: 9000,
        alpn: ['istio-peer-exchange', 'istio'],
        allowed: ['spiffe://cluster.local/ns/default/sa/guarded'],
      });
    try {
      assert.equal(await tcpExchange(await connect(allowed), 'hi'), 'guarded:hi');
      const denied = await tcpExchange(await connect(other), 'hi').catch((e: Error) => `error ${e.message}`);
      assert.ok(!denied.includes('guarded:'), `the app must not answer, got ${JSON.stringify(denied)}`);
      const stats = await admin(guarded, '/stats?filter=rbac');
      assert.match(stats.body, /rbac\.denied: 1$/m);
      assert.match(stats.body, /rbac\.allowed: 1$/m);
    } finally {
      allowed.stop();
      other.stop();
    }
  });
});

describe('a server-first protocol on a sniffed port', () => {
  test('the banner arrives: protocol detection gives up after listener_filters_timeout', async () => {
    const before = await admin(banner, '/stats?filter=downstream_pre_cx_timeout');
    const s = net.connect(9100, banner.ip);
    const first = await new Promise<string>((resolve, reject) => {
      s.once('data', (d) => resolve(d.toString('latin1')));
      s.once('error', reject);
    });
    assert.equal(first, '220 banner ready\r\n');
    assert.equal(await tcpExchange(s, 'QUIT'), 'bye QUIT');
    const afterStats = await admin(banner, '/stats?filter=downstream_pre_cx_timeout');
    assert.notEqual(afterStats.body, before.body, 'the detection timeout is counted');
  });
});

describe('PeerAuthentication', () => {
  test('STRICT: mTLS from a sidecar is served', async () => {
    const res = await viaProxy(sleep, 'http://strict:9080/ok');
    assert.equal(res.status, 200, String(res.headers['x-trellis-reason']));
    assert.equal(JSON.parse(res.body).server, 'strict');
  });

  test('STRICT refuses plaintext HTTP: the connection is closed without an answer', async () => {
    const s = net.connect(9080, strict.ip);
    const out = await tcpExchange(s, 'GET / HTTP/1.1\r\nhost: strict\r\n\r\n').catch(
      (e: Error) => `error ${e.message}`,
    );
    assert.ok(!out.includes('HTTP/1.1'), `no HTTP answer expected, got ${JSON.stringify(out)}`);
    const stats = await admin(strict, '/stats?filter=no_filter_chain_match');
    assert.match(stats.body, /no_filter_chain_match: [1-9]/);
  });

  test('STRICT refuses plaintext TCP', async () => {
    const s = net.connect(9000, strict.ip);
    const out = await tcpExchange(s, 'hello').catch((e: Error) => `error ${e.message}`);
    assert.ok(!out.includes('strict:'), `the app must not answer plaintext, got ${JSON.stringify(out)}`);
  });

  test('PERMISSIVE serves plaintext HTTP (a client without a sidecar)', async () => {
    const s = net.connect(9080, web.ip);
    // Written without a FIN: an HTTP client that half-closes is treated as gone (Envoy does the same).
    const out = await readUntilClose(s, 'GET /plain HTTP/1.1\r\nhost: web\r\nconnection: close\r\n\r\n');
    assert.match(out, /^HTTP\/1.1 200/);
    assert.match(out, /"url":"\/plain"/);
  });
});

describe('secure naming', () => {
  test('an endpoint presenting another identity than the service allows is refused (503 UF)', async () => {
    const res = await viaProxy(sleep, 'http://secure:9080/');
    assert.equal(res.status, 503);
    const reason = String(res.headers['x-trellis-reason']);
    assert.match(reason, /^UF /);
    assert.match(reason, /sa\/evil/);
    assert.match(reason, /not allowed to serve/);
    await eventually(
      () => impostor.sidecar!.openConnections === 0,
      'the refused connection to close on the server side',
    );
  });
});
