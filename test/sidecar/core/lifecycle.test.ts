// The sidecar's lifecycle: drain (admin and SIGTERM on a real `trellis proxy` process), /quitquitquit, and a
// control plane that goes away during steady traffic and comes back.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../../src/shared/log.js';
import { Sidecar } from '../../../src/sidecar/runtime/sidecar.js';
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

const root = new URL('../../../../', import.meta.url).pathname;

let mesh: TestMesh;
let client: TestPod;
let web: TestPod;
let slow: TestPod;
let external: TestPod;
let swap: TestPod;
const servers: (http.Server | net.Server)[] = [];
/** Requests to the slow app wait here until the test lets them go. */
const held: http.ServerResponse[] = [];
let arrived: (() => void) | undefined;

before(async () => {
  mesh = await Mesh.start({ prefix: '127.34' });
  mesh.addService('sleep', [{ name: 'http', port: 80 }]);
  mesh.addService('web', [{ name: 'http', port: 9080 }]);
  mesh.addService('web2', [{ name: 'http', port: 9080 }]);
  mesh.addService('slow', [
    { name: 'http', port: 9080 },
    { name: 'tcp', port: 9000 },
  ]);
  mesh.addService('proc', [{ name: 'http', port: 9080 }]);
  mesh.addService('swap', [{ name: 'http', port: 9080 }]);
  client = await mesh.startPod({ name: 'sleep-0', app: 'sleep', ports: [{ name: 'http', port: 80 }] });
  web = await mesh.startPod({ name: 'web-0', app: 'web', ports: [{ name: 'http', port: 9080 }] });
  const web2 = await mesh.startPod({ name: 'web2-0', app: 'web2', ports: [{ name: 'http', port: 9080 }] });
  slow = await mesh.startPod({
    name: 'slow-0',
    app: 'slow',
    ports: [
      { name: 'http', port: 9080 },
      { name: 'tcp', port: 9000 },
    ],
    bootstrap: { drainTimeoutMs: 3000 },
  });
  swap = await mesh.startPod({
    name: 'swap-0',
    app: 'swap',
    ports: [{ name: 'http', port: 9080 }],
    bootstrap: { drainTimeoutMs: 10_000 },
  });
  external = await mesh.startPod({
    name: 'proc-0',
    app: 'proc',
    ports: [{ name: 'http', port: 9080 }],
    external: true,
  });
  servers.push(await startHttpApp(web.appIp, 9080, 'web'));
  servers.push(await startHttpApp(web2.appIp, 9080, 'web2'));
  servers.push(await startEchoApp(slow.appIp, 9000, 'slow:'));
  const hold = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    held.push(res);
    arrived?.();
  };
  servers.push(await startHttpApp(slow.appIp, 9080, 'slow', hold));
  servers.push(await startHttpApp(external.appIp, 9080, 'proc', hold));
  servers.push(
    await startHttpApp(swap.appIp, 9080, 'swap', (req, res) =>
      req.url === '/in-flight' ? hold(req, res) : res.end('new'),
    ),
  );
  await Promise.all(mesh.pods.map((p) => p.sidecar?.whenReady()));
});

after(async () => {
  for (const r of held) r.end();
  for (const s of servers) await closeServer(s);
  await mesh.stop();
});

function nextArrival(): Promise<void> {
  return new Promise((resolve) => {
    arrived = () => {
      arrived = undefined;
      resolve();
    };
  });
}

function releaseAll(body: string): void {
  for (const r of held.splice(0)) r.end(body);
}

describe('control plane outage', () => {
  test('the last config keeps serving with the control plane gone (zero failures), and resyncs when it is back', async () => {
    const ports = {
      xdsPort: Number(mesh.cp.addresses.xds.split(':')[1]),
      xdsTlsPort: Number(mesh.cp.addresses.xdsTls.split(':')[1]),
      apiPort: Number(mesh.cp.addresses.api.split(':')[1]),
    };
    const statuses: number[] = [];
    let running = true;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const traffic = (async () => {
      while (running) statuses.push((await viaProxy(client, 'http://web:9080/steady', { agent })).status);
    })();
    await eventually(() => statuses.length >= 20, 'traffic to flow');
    await mesh.cp.stop();
    await eventually(
      () => !client.sidecar!.xdsStatus()!.connected,
      'the sidecar to notice the control plane is gone',
    );
    const during = statuses.length;
    await eventually(() => statuses.length >= during + 100, '100 requests without a control plane');
    await mesh.startControlPlane(ports);
    await eventually(() => client.sidecar!.xdsStatus()!.connected, 'the sidecar to reconnect');
    running = false;
    await traffic;
    agent.destroy();
    assert.ok(statuses.length > 120);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      'no request failed while the control plane was away',
    );
    // A change made after the restart reaches the proxy: it resynced.
    await mesh.apply([
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'web', namespace: 'default' },
        spec: { hosts: ['web'], http: [{ route: [{ destination: { host: 'web2' } }] }] },
      },
    ]);
    await eventually(
      async () => JSON.parse((await viaProxy(client, 'http://web:9080/after')).body).server === 'web2',
      'the new route to take effect',
    );
  });
});

describe('config swaps', () => {
  test('a changed listener serves new connections with the new config; a request in flight finishes on the old', async () => {
    // Plaintext, straight to the inbound listener (PERMISSIVE), held at the app.
    const sock = net.connect(9080, swap.ip);
    let answer = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      answer += d;
    });
    const arrivedThere = nextArrival();
    sock.write('GET /in-flight HTTP/1.1\r\nhost: swap\r\n\r\n');
    await arrivedThere;
    await mesh.apply([
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'PeerAuthentication',
        metadata: { name: 'swap', namespace: 'default' },
        spec: { selector: { matchLabels: { app: 'swap' } }, mtls: { mode: 'STRICT' } },
      },
    ]);
    // New plaintext connections are refused once the STRICT listener is applied...
    await eventually(async () => {
      const s = net.connect(9080, swap.ip);
      s.on('error', () => {});
      s.write('GET /new HTTP/1.1\r\nhost: swap\r\n\r\n');
      const [data] = await Promise.race([once(s, 'data'), once(s, 'close').then(() => [''])]);
      s.destroy();
      return data === '';
    }, 'the STRICT listener to refuse plaintext');
    // ...while the request accepted under the old config is answered.
    releaseAll('old config');
    await eventually(() => answer.includes('old config'), 'the in-flight answer');
    assert.match(answer, /^HTTP\/1.1 200/);
    sock.destroy();
  });
});

describe('drain', () => {
  test('/drain_listeners: in-flight requests finish, new connections are refused, readiness says 503', async () => {
    const inflight = viaProxy(client, 'http://slow:9080/long');
    await nextArrival();
    const tcp = net.connect(9000, slow.ip);
    await once(tcp, 'connect');
    const drained = await fetch(`${slow.sidecar!.adminUrl}/drain_listeners`, { method: 'POST' });
    assert.equal(drained.status, 200);
    await eventually(async () => (await admin(slow, '/ready')).status === 503, 'readiness to drop');
    assert.equal((await admin(slow, '/ready')).body, 'DRAINING\n');
    const readiness = await fetch(`http://${slow.ip}:${slow.sidecar!.ports.readiness}/healthz/ready`);
    assert.equal(readiness.status, 503);
    // New connections are refused at once.
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = net.connect(9080, slow.ip);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      }),
      /ECONNREFUSED/,
    );
    // The TCP connection accepted before the drain still works.
    tcp.setEncoding('latin1');
    tcp.write('still here');
    const [echoed] = await once(tcp, 'data');
    assert.equal(echoed, 'slow:still here');
    releaseAll('finished');
    const res = await inflight;
    assert.equal(res.status, 200);
    assert.equal(res.body, 'finished');
    // At the drain deadline the remaining TCP connection is cut.
    await once(tcp, 'close');
  });

  test('SIGTERM on `trellis proxy`: the in-flight request finishes, then the process exits 0', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [join(root, 'bin/trellis.js'), 'proxy', '--bootstrap', external.bootstrapPath, '--log-level', 'warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr += d;
    });
    const exited = once(child, 'exit');
    try {
      await eventually(
        async () =>
          (await fetch(`http://${external.ip}:15021/healthz/ready`).catch(() => undefined))?.status === 200,
        'the proxy process to be ready',
        20_000,
      );
      const inflight = viaProxy(client, 'http://proc:9080/long');
      await nextArrival();
      child.kill('SIGTERM');
      await eventually(
        async () =>
          (await fetch(`http://${external.ip}:15021/healthz/ready`).catch(() => undefined))?.status !== 200,
        'readiness to drop',
      );
      releaseAll('done before exit');
      const res = await inflight;
      assert.equal(res.status, 200);
      assert.equal(res.body, 'done before exit');
      const [code] = await exited;
      assert.equal(code, 0, stderr);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('`trellis proxy` with an invalid bootstrap exits 1 naming the file and every field at fault', async () => {
    const bad = join(mesh.dir, 'bad-bootstrap.json');
    writeFileSync(
      bad,
      JSON.stringify({ ...external.bootstrap, xds: { address: 'nowhere' }, drainTimeoutMs: 'soon' }),
    );
    const child = spawn(process.execPath, [join(root, 'bin/trellis.js'), 'proxy', '--bootstrap', bad], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr += d;
    });
    const [code] = await once(child, 'exit');
    assert.equal(code, 1);
    assert.match(stderr, /bad-bootstrap\.json is not a valid bootstrap/);
    assert.match(stderr, /xds\.address: must be host:port, got "nowhere"/);
    assert.match(stderr, /drainTimeoutMs: must be a non-negative number/);
  });

  test('/quitquitquit shuts the proxy down cleanly and reports exit code 0', async () => {
    const ip = '127.34.0.60';
    let exitCode: number | undefined;
    const sidecar = await Sidecar.start({
      bootstrap: {
        ...web.bootstrap,
        admin: { address: ip, port: 0 },
        bindAddress: ip,
        node: { ...web.bootstrap.node, id: `sidecar~${ip}~web-0.default~default.svc.cluster.local` },
      },
      logger: silentLogger,
      onExit: (code) => {
        exitCode = code;
      },
    });
    await sidecar.whenReady();
    const res = await fetch(`${sidecar.adminUrl}/quitquitquit`, { method: 'POST' });
    assert.equal(await res.text(), 'OK\n');
    await eventually(() => exitCode !== undefined, 'the exit');
    assert.equal(exitCode, 0);
    await assert.rejects(fetch(`${sidecar.adminUrl}/ready`), 'the admin port is closed');
    const get = await fetch(`${sidecar.adminUrl}/quitquitquit`).catch(() => undefined);
    assert.equal(get, undefined);
  });
});
