// Real capture, as root: two pods in their own network namespaces with Istio's iptables rules, each with a
// `trellis proxy` process running as uid 1337. Apps talk to service names as if there were no mesh.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { KubeService } from '../../../src/api/types/index.js';
import { adminGet } from '../../../src/cli/commands/proxy-config.js';
import { type ControlPlane, startControlPlane } from '../../../src/controlplane/main.js';
import { commandExists, run } from '../../../src/runtime/network/exec.js';
import { ISTIO_CAPTURE_DEFAULTS } from '../../../src/runtime/network/iptables.js';
import {
  bridgeName,
  cleanupMeshNetwork,
  createBridge,
  type MeshNetwork,
  PodNetwork,
} from '../../../src/runtime/network/netns.js';
import { originalDstUnavailable } from '../../../src/sidecar/listener/original-dst.js';

const root = new URL('../../../../', import.meta.url).pathname;
const skip =
  process.getuid?.() !== 0
    ? 'needs root (network namespaces, iptables, running the proxy as uid 1337)'
    : (originalDstUnavailable() ??
      ((await commandExists('iptables-restore')) ? undefined : 'iptables is not installed') ??
      ((await commandExists('setpriv')) ? undefined : 'setpriv is not installed'));

const mesh = `c${process.pid}`;
const net0: MeshNetwork = { mesh, bridge: bridgeName(mesh), gateway: '10.251.9.1', prefixLen: 24 };
const CLIENT_IP = '10.251.9.2';
const SERVER_IP = '10.251.9.3';
const VIPS = { web: '10.252.9.10', grpc: '10.252.9.11', echo: '10.252.9.12', banner: '10.252.9.13' };

let dir = '';
let cp: ControlPlane;
let clientPod: PodNetwork;
let serverPod: PodNetwork;
const children: ChildProcess[] = [];
let hostEcho: net.Server | undefined;

function service(name: keyof typeof VIPS, port: { name: string; port: number }): KubeService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { selector: { app: 'server' }, clusterIP: VIPS[name], ports: [{ ...port, targetPort: port.port }] },
  } as KubeService;
}

/** Starts a program inside a namespace; resolves when it prints its first line (it is listening). */
function startIn(netns: string, argv: string[], opts: { uid?: number } = {}): Promise<ChildProcess> {
  const prefix = ['ip', 'netns', 'exec', netns];
  const priv =
    opts.uid !== undefined ? ['setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups'] : [];
  const cmd = [...prefix, ...priv, ...argv];
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited with ${code}: ${stderr}`)));
    child.stdout!.once('data', () => resolve(child));
  });
}

/** Runs a one-shot Node script in the client pod (as root: its traffic is captured) and returns its output. */
function inClient(script: string): Promise<string> {
  const file = join(dir, `client-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  return run('ip', ['netns', 'exec', clientPod.netns, process.execPath, file]);
}

function writeBootstrap(name: string, ip: string, app: string, token: string): string {
  const file = join(dir, `${name}.json`);
  const tokenFile = join(dir, `${name}.token`);
  writeFileSync(tokenFile, token, { mode: 0o644 });
  const xds = `${net0.gateway}:${cp.addresses.xdsTls.split(':')[1]}`;
  writeFileSync(
    file,
    JSON.stringify({
      node: {
        id: `sidecar~${ip}~${name}.default~default.svc.cluster.local`,
        cluster: `${app}.default`,
        metadata: {
          NAMESPACE: 'default',
          NAME: name,
          WORKLOAD_NAME: app,
          SERVICE_ACCOUNT: app,
          LABELS: { app, version: 'v1' },
          INSTANCE_IPS: ip,
          INTERCEPTION_MODE: 'REDIRECT',
          CLUSTER_ID: 'Kubernetes',
          MESH_ID: 'cluster.local',
        },
      },
      xds: { address: xds, tls: true, caCertificateFile: join(dir, 'root-cert.pem') },
      ca: { address: xds, tokenFile },
      admin: { address: '127.0.0.1', port: 15000, socketPath: join(dir, 'sock', `${name}.sock`) },
      bindAddress: '0.0.0.0',
      drainTimeoutMs: 1000,
    }),
    { mode: 0o644 },
  );
  return file;
}

async function waitReady(ip: string): Promise<void> {
  const start = Date.now();
  for (;;) {
    const ok = await fetch(`http://${ip}:15021/healthz/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    if (Date.now() - start > 20_000) throw new Error(`the sidecar at ${ip} never became ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'trellis-core-netns-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'sock'), { mode: 0o777 });
  chmodSync(join(dir, 'sock'), 0o777);
  await cleanupMeshNetwork(mesh);
  await createBridge(net0);
  cp = await startControlPlane({
    stateDir: join(dir, 'cp'),
    listen: { hosts: ['127.0.0.1', net0.gateway], xdsPort: 0, xdsTlsPort: 0, apiPort: 0 },
    debounceMs: 10,
  });
  writeFileSync(join(dir, 'root-cert.pem'), cp.caRootPem(), { mode: 0o644 });
  cp.registry.setServices([
    service('web', { name: 'http', port: 9080 }),
    service('grpc', { name: 'grpc', port: 50051 }),
    service('echo', { name: 'tcp', port: 9000 }),
    service('banner', { name: 'banner', port: 9100 }),
  ]);
  const workload = (name: string, app: string, ip: string, ports: number[]) => ({
    name,
    namespace: 'default',
    labels: { app, version: 'v1' },
    annotations: {},
    ip,
    serviceAccount: app,
    workloadName: app,
    containerPorts: ports.map((port) => ({ port })),
    ready: true,
    hasSidecar: true,
  });
  cp.registry.setWorkloads([
    workload('client-0', 'client', CLIENT_IP, []),
    workload('server-0', 'server', SERVER_IP, [9080, 50051, 9000, 9100]),
  ]);
  const hosts = Object.entries(VIPS).map(([name, ip]) => ({
    ip,
    names: [name, `${name}.default`, `${name}.default.svc.cluster.local`],
  }));
  clientPod = new PodNetwork({
    network: net0,
    podKey: 'default.client-0',
    ip: CLIENT_IP,
    hosts,
    searchDomains: ['default.svc.cluster.local'],
    capture: ISTIO_CAPTURE_DEFAULTS,
  });
  serverPod = new PodNetwork({
    network: net0,
    podKey: 'default.server-0',
    ip: SERVER_IP,
    hosts,
    searchDomains: ['default.svc.cluster.local'],
    capture: ISTIO_CAPTURE_DEFAULTS,
  });
  await clientPod.create();
  await serverPod.create();
  // The server pod's apps (as root; they listen on every address, as containers do).
  const apps = join(dir, 'apps.mjs');
  writeFileSync(
    apps,
    `import http from 'node:http'; import net from 'node:net'; import { createRequire } from 'node:module';
     const grpc = createRequire('${root}package.json')('@grpc/grpc-js');
     http.createServer((req, res) => res.end(JSON.stringify({ url: req.url, from: req.socket.remoteAddress }))).listen(9080);
     net.createServer({ allowHalfOpen: true }, (s) => { s.on('data', (d) => s.write('echo:' + d)); s.on('end', () => s.end()); }).listen(9000);
     net.createServer((s) => { s.write('220 banner\\r\\n'); s.on('data', (d) => s.end('bye ' + d)); }).listen(9100);
     net.createServer((s) => s.end('direct from ' + s.remoteAddress)).listen(7070);
     const json = { serialize: (v) => Buffer.from(JSON.stringify(v)), deserialize: (b) => JSON.parse(b.toString()) };
     const m = (path, rs) => ({ path, requestStream: false, responseStream: rs, requestSerialize: json.serialize, requestDeserialize: json.deserialize, responseSerialize: json.serialize, responseDeserialize: json.deserialize });
     const server = new grpc.Server();
     server.addService({ echo: m('/t.E/Echo', false), count: m('/t.E/Count', true) }, {
       echo: (call, cb) => cb(null, { echo: call.request.text }),
       count: (call) => { for (let i = 1; i <= call.request.upTo; i++) call.write({ i }); call.end(); },
     });
     server.bindAsync('0.0.0.0:50051', grpc.ServerCredentials.createInsecure(), () => console.log('up'));`,
  );
  await startIn(serverPod.netns, [process.execPath, apps]);
  const trellis = join(root, 'bin/trellis.js');
  const token = (sa: string, pod: string) =>
    cp.issueWorkloadToken({ namespace: 'default', serviceAccount: sa, podName: pod });
  const clientBoot = writeBootstrap('client-0', CLIENT_IP, 'client', await token('client', 'client-0'));
  const serverBoot = writeBootstrap('server-0', SERVER_IP, 'server', await token('server', 'server-0'));
  // The proxies print nothing on stdout; their first stderr line says they started.
  const proxy = (netns: string, boot: string) => {
    const cmd = ['ip', 'netns', 'exec', netns, 'setpriv', '--reuid=1337', '--regid=1337', '--clear-groups'];
    const child = spawn(cmd[0]!, [...cmd.slice(1), process.execPath, trellis, 'proxy', '--bootstrap', boot], {
      stdio: ['ignore', 'ignore', process.env.TRELLIS_TEST_LOG ? 'inherit' : 'ignore'],
    });
    children.push(child);
  };
  proxy(clientPod.netns, clientBoot);
  proxy(serverPod.netns, serverBoot);
  await Promise.all([waitReady(CLIENT_IP), waitReady(SERVER_IP)]);
  // A server outside the mesh, on the host: reached through PassthroughCluster.
  hostEcho = net.createServer((s) => s.end(`outside saw ${s.remoteAddress}`));
  hostEcho.listen(7777, net0.gateway);
  await once(hostEcho, 'listening');
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  hostEcho?.close();
  if (skip) return;
  await cp?.stop();
  await cleanupMeshNetwork(mesh);
  rmSync(dir, { recursive: true, force: true });
});

test('HTTP/1.1: app → captured on 15001 → 0.0.0.0_9080 by original destination → mTLS → 15006 → app', {
  skip,
}, async () => {
  const out = await inClient(
    `const r = await fetch('http://web:9080/hello?a=1'); console.log(r.status, await r.text());`,
  );
  assert.match(out, /^200 /);
  const got = JSON.parse(out.slice(4));
  assert.equal(got.url, '/hello?a=1');
  assert.equal(got.from.replace('::ffff:', ''), '127.0.0.1', 'the server sidecar delivered it over loopback');
  const client = await adminGet(
    { socketPath: join(dir, 'sock', 'client-0.sock') },
    '/stats?filter=^listener',
  );
  assert.match(client, /^listener\.0\.0\.0\.0_9080\.downstream_cx_total: [1-9]/m);
  const server = await adminGet({ socketPath: join(dir, 'sock', 'server-0.sock') }, '/stats/prometheus');
  assert.match(
    server,
    /istio_requests_total\{reporter="destination",.*source_principal="spiffe:\/\/cluster.local\/ns\/default\/sa\/client".*connection_security_policy="mutual_tls"\} [1-9]/,
  );
});

test('gRPC unary and server streaming through the captured path', { skip }, async () => {
  const out = await inClient(
    `import { createRequire } from 'node:module';
     const grpc = createRequire('${root}package.json')('@grpc/grpc-js');
     const json = { serialize: (v) => Buffer.from(JSON.stringify(v)), deserialize: (b) => JSON.parse(b.toString()) };
     const m = (path, rs) => ({ path, requestStream: false, responseStream: rs, requestSerialize: json.serialize, requestDeserialize: json.deserialize, responseSerialize: json.serialize, responseDeserialize: json.deserialize });
     const C = grpc.makeGenericClientConstructor({ echo: m('/t.E/Echo', false), count: m('/t.E/Count', true) }, 'E');
     const c = new C('grpc:50051', grpc.credentials.createInsecure());
     const u = await new Promise((res, rej) => c.echo({ text: 'hi' }, (e, r) => (e ? rej(e) : res(r))));
     const n = await new Promise((res, rej) => { const got = []; const s = c.count({ upTo: 20 }); s.on('data', (m) => got.push(m.i)); s.on('end', () => res(got)); s.on('error', rej); });
     console.log(JSON.stringify({ u, n })); c.close();`,
  );
  const { u, n } = JSON.parse(out);
  assert.deepEqual(u, { echo: 'hi' });
  assert.deepEqual(
    n,
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
});

test('raw TCP echo with a half-close, through tcp_proxy on both sides', { skip }, async () => {
  const out = await inClient(
    `import net from 'node:net';
     const s = net.connect(9000, 'echo', () => s.end('ping'));
     let got = ''; s.on('data', (d) => (got += d)); s.on('end', () => console.log(got));`,
  );
  assert.equal(out.trim(), 'echo:ping');
});

test('a server-first protocol on a sniffed port is never hung', { skip }, async () => {
  const started = Date.now();
  const out = await inClient(
    `import net from 'node:net';
     const s = net.connect(9100, 'banner');
     let got = ''; s.once('data', (d) => { got += d; s.write('QUIT'); s.on('data', (e) => (got += e)); });
     s.on('end', () => console.log(JSON.stringify(got)));`,
  );
  assert.equal(JSON.parse(out), '220 banner\r\nbye QUIT');
  assert.ok(Date.now() - started < 5000);
});

test('a destination outside the mesh goes through PassthroughCluster to the original destination', {
  skip,
}, async () => {
  const out = await inClient(
    `import net from 'node:net';
     const s = net.connect(7777, '${net0.gateway}'); let got = ''; s.on('data', (d) => (got += d)); s.on('end', () => console.log(got));`,
  );
  assert.equal(out.trim(), `outside saw ${CLIENT_IP}`);
});

test('an undeclared port of the server pod goes through InboundPassthroughCluster, bound to 127.0.0.6', {
  skip,
}, async () => {
  const out = await inClient(
    `import net from 'node:net';
     const s = net.connect(7070, '${SERVER_IP}'); let got = ''; s.on('data', (d) => (got += d)); s.on('end', () => console.log(got));`,
  );
  assert.equal(out.trim().replace('::ffff:', ''), 'direct from 127.0.0.6');
});
