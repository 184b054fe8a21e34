// Transparent capture in a real network namespace: the app's connection lands on 15001 and the sidecar reads its
// original destination with SO_ORIGINAL_DST, exactly as Istio's iptables rules arrange it.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { commandExists, run } from '../../src/runtime/network/exec.js';
import { ISTIO_CAPTURE_DEFAULTS } from '../../src/runtime/network/iptables.js';
import {
  bridgeName,
  cleanupMeshNetwork,
  createBridge,
  type MeshNetwork,
  PodNetwork,
} from '../../src/runtime/network/netns.js';
import { originalDstUnavailable } from '../../src/sidecar/listener/original-dst.js';

const root = process.getuid?.() === 0;
const skip = !root
  ? 'needs root (network namespaces and iptables)'
  : (originalDstUnavailable() ??
    ((await commandExists('iptables-restore')) ? undefined : 'iptables is not installed'));

const mesh = `t${process.pid}`;
const net: MeshNetwork = { mesh, bridge: bridgeName(mesh), gateway: '10.250.7.1', prefixLen: 24 };
const dist = new URL('../../', import.meta.url).pathname;
const children: ChildProcess[] = [];
let dir = '';

function startIn(netns: string, script: string, opts: { uid?: number } = {}): Promise<ChildProcess> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  const prefix = ['ip', 'netns', 'exec', netns];
  const cmd =
    opts.uid !== undefined
      ? [
          ...prefix,
          'setpriv',
          `--reuid=${opts.uid}`,
          `--regid=${opts.uid}`,
          '--clear-groups',
          process.execPath,
          file,
        ]
      : [...prefix, process.execPath, file];
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before it was listening`)));
    child.stdout!.once('data', () => resolve(child)); // each script prints one line when it is listening
  });
}

let podA: PodNetwork;
let podB: PodNetwork;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'trellis-netns-'));
  chmodSync(dir, 0o755); // the sidecar script runs as uid 1337
  await cleanupMeshNetwork(mesh);
  await createBridge(net);
  podB = new PodNetwork({
    network: net,
    podKey: 'default.b',
    ip: '10.250.7.3',
    hosts: [],
    searchDomains: ['default.svc.cluster.local'],
  });
  podA = new PodNetwork({
    network: net,
    podKey: 'default.a',
    ip: '10.250.7.2',
    hosts: [{ ip: '10.250.7.3', names: ['b.default.svc.cluster.local', 'b'] }],
    searchDomains: ['default.svc.cluster.local'],
    capture: ISTIO_CAPTURE_DEFAULTS,
  });
  await podB.create();
  await podA.create();
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  if (!skip) await cleanupMeshNetwork(mesh);
});

test('an app connection is redirected to 15001 and the sidecar recovers the original destination', {
  skip,
}, async () => {
  await startIn(
    podB.netns,
    `import net from 'node:net';
     net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s)).listen(9080, '0.0.0.0', () => console.log('up'));`,
  );
  // The "sidecar": runs as uid 1337 so its own upstream connection is not captured again.
  await startIn(
    podA.netns,
    `import net from 'node:net';
     import { originalDestination } from '${dist}src/sidecar/listener/original-dst.js';
     net.createServer({ allowHalfOpen: true }, (s) => {
       const dst = originalDestination(s);
       const up = net.connect({ port: dst.port, host: dst.address, allowHalfOpen: true }, () => { s.write('orig=' + dst.address + ':' + dst.port + '\\n'); s.pipe(up).pipe(s); });
       up.on('error', () => s.destroy());
     }).listen(15001, '0.0.0.0', () => console.log('up'));`,
    { uid: 1337 },
  );
  const client = await run('ip', [
    'netns',
    'exec',
    podA.netns,
    process.execPath,
    '-e',
    `const s = require('node:net').connect(9080, 'b', () => s.end('hello'));
     let out = ''; s.on('data', (d) => (out += d)); s.on('end', () => process.stdout.write(out));`,
  ]);
  assert.equal(client, 'orig=10.250.7.3:9080\nhello');
});

test('name resolution inside the pod uses its hosts file, which can change while it runs', {
  skip,
}, async () => {
  const out = await run('ip', [
    'netns',
    'exec',
    podA.netns,
    process.execPath,
    '-e',
    "require('dns').lookup('b', (e, a) => console.log(a))",
  ]);
  assert.equal(out.trim(), '10.250.7.3');
  podA.updateHosts([{ ip: '10.250.7.9', names: ['b'] }]);
  const again = await run('ip', [
    'netns',
    'exec',
    podA.netns,
    process.execPath,
    '-e',
    "require('dns').lookup('b', (e, a) => console.log(a))",
  ]);
  assert.equal(again.trim(), '10.250.7.9');
});

test('cleanup removes every namespace, hosts folder and the bridge', { skip }, async () => {
  const removed = await cleanupMeshNetwork(mesh);
  assert.ok(
    removed.some((r) => r.startsWith('bridge')),
    `removed: ${removed.join(', ')}`,
  );
  assert.equal((await run('ip', ['netns', 'list'])).includes(`trellis.${mesh}.`), false);
  assert.equal((await run('ip', ['-o', 'link', 'show'])).includes(net.bridge), false);
});
