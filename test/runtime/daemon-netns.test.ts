// The mesh daemon in netns mode (root): a namespace per pod with Istio's capture rules, hosts files that follow
// the Services, pods without a sidecar, cleanup after a crashed daemon, and a down that leaves nothing behind.

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { netnsUnavailable } from '../../src/runtime/mode.js';
import { run } from '../../src/runtime/network/exec.js';
import { bridgeName } from '../../src/runtime/network/netns.js';
import { isProcessAlive } from '../../src/runtime/state-dir.js';
import { MeshHarness, TRELLIS_HOME } from '../e2e/harness.js';

const FIX = join(TRELLIS_HOME, 'test/runtime/fixtures/manifests');
const skip = await netnsUnavailable();
const third = 20 + (process.pid % 200);
const podCidr = `10.213.${third}.0/24`;
let h: MeshHarness;

async function stat(address: string, name: string): Promise<number> {
  const text = await (await fetch(`http://${address}/stats/prometheus`)).text();
  const m = new RegExp(`^standin_${name}_connections_total (\\d+)$`, 'm').exec(text);
  return Number(m?.[1] ?? Number.NaN);
}

before(async () => {
  if (skip) return;
  h = await MeshHarness.start({
    manifests: [join(FIX, 'basic')],
    mode: 'netns',
    podCidr,
    planes: 'stand-in',
    env: { TRELLIS_ENDPOINT_DRAIN_MS: '50', TRELLIS_DRAIN_TIMEOUT_MS: '1000' },
  });
});

after(async () => {
  await h?.close();
});

test('every pod gets a namespace and an address from the pod CIDR', { skip }, async () => {
  const s = await h.status();
  assert.equal(s.mode, 'netns');
  assert.equal(s.network.podCidr, podCidr);
  assert.equal(s.network.gateway, `10.213.${third}.1`);
  for (const p of s.pods) {
    assert.equal(p.ready, true, `${p.name}: ${p.message}`);
    assert.match(p.ip, new RegExp(`^10\\.213\\.${third}\\.\\d+$`));
    const netns = `trellis.${h.name}.${p.namespace}.${p.name}`;
    const addr = await run('ip', ['-n', netns, '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    assert.match(addr, new RegExp(`inet ${p.ip.replace(/\./g, '\\.')}/24`));
  }
});

test("an app's connection to a service VIP is captured by its sidecar and arrives through the server's", {
  skip,
}, async () => {
  const sleep = await h.pod('sleep');
  const httpbin = await h.pod('httpbin');
  const before = {
    out: await stat(sleep.sidecar!.stats, 'outbound'),
    in: await stat(httpbin.sidecar!.stats, 'inbound'),
  };
  const r = await h.exec('deploy/sleep', ['fetch', '-s', 'http://httpbin:8000/ip']);
  assert.equal(r.code, 0, r.stderr);
  // The app sees its own sidecar's inbound hop: the request left the pod through 15006's passthrough on loopback.
  assert.deepEqual(JSON.parse(r.stdout), { origin: '127.0.0.1' });
  assert.equal(await stat(sleep.sidecar!.stats, 'outbound'), before.out + 1);
  assert.equal(await stat(httpbin.sidecar!.stats, 'inbound'), before.in + 1);
  const rules = await run('ip', [
    'netns',
    'exec',
    `trellis.${h.name}.default.${sleep.name}`,
    'iptables-save',
    '-t',
    'nat',
  ]);
  assert.match(rules, /-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001/);
  assert.match(
    rules,
    new RegExp(`-A ISTIO_INBOUND -s 10\\.213\\.${third}\\.2/32 -j RETURN`),
    'probes bypass capture',
  );
});

test('the hosts file maps every service name to its VIP and follows new Services', { skip }, async () => {
  const hosts = await h.exec('deploy/sleep', ['cat', '/etc/hosts']);
  assert.match(
    hosts.stdout,
    /^10\.214\.\d+\.\d+\thttpbin\.default\.svc\.cluster\.local httpbin\.default\.svc httpbin\.default httpbin$/m,
  );
  const resolv = await h.exec('deploy/sleep', ['cat', '/etc/resolv.conf']);
  assert.match(resolv.stdout, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);
  const applied = await h.apply([join(FIX, 'extra/scale.yaml')]);
  assert.equal(applied.code, 0, applied.stderr);
  const vip = /extra\s+(10\.214\.\d+\.\d+)/.exec((await h.cli(['get', 'svc', 'extra'])).stdout)?.[1];
  assert.ok(vip);
  const lookup = await h.exec('deploy/sleep', [
    'node',
    '-e',
    "require('dns').lookup('extra.default.svc', (e, a) => console.log(a))",
  ]);
  assert.equal(lookup.stdout.trim(), vip);
  await h.waitFor(
    'two httpbin pods',
    (s) => s.pods.filter((p) => p.deployment === 'httpbin' && p.ready).length === 2,
  );
  const viaExtra = await h.exec('deploy/sleep', [
    'fetch',
    '-s',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    'http://extra/status/200',
  ]);
  assert.equal(viaExtra.stdout, '200');
});

test('a pod annotated sidecar.istio.io/inject: "false" runs without a sidecar or capture rules', {
  skip,
}, async () => {
  assert.equal((await h.apply([join(FIX, 'extra/plain.yaml')])).code, 0);
  const s = await h.waitFor('the plain pod', (x) => x.pods.some((p) => p.deployment === 'plain' && p.ready));
  const plain = s.pods.find((p) => p.deployment === 'plain')!;
  assert.deepEqual(
    plain.containers.map((c) => c.name),
    ['plain'],
  );
  assert.equal(plain.sidecar, undefined);
  const rules = await run('ip', [
    'netns',
    'exec',
    `trellis.${h.name}.default.${plain.name}`,
    'iptables-save',
    '-t',
    'nat',
  ]);
  assert.doesNotMatch(rules, /ISTIO/);
  const proxyLogs = await h.cli(['logs', 'deploy/plain', '-c', 'proxy']);
  assert.equal(proxyLogs.code, 1);
  assert.match(proxyLogs.stderr, /has no sidecar/);
});

test('a second mesh whose pod CIDR overlaps an existing route refuses to start and leaves nothing', {
  skip,
}, async () => {
  const other = MeshHarness.create({
    manifests: [join(FIX, 'basic')],
    mode: 'netns',
    podCidr,
    planes: 'stand-in',
  });
  try {
    const r = await other.tryUp();
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `10\\.213\\.${third}\\.0/24 overlaps an existing route \\(10\\.213\\.${third}\\.0/24 dev ${bridgeName(h.name)}`,
      ),
    );
    assert.deepEqual(await other.leftovers(), []);
  } finally {
    await other.close();
  }
  assert.equal((await h.status()).phase, 'running', 'the first mesh is untouched');
});

test('after the daemon is killed with SIGKILL, the next up cleans its left-overs', { skip }, async () => {
  const pid = (await h.status()).pid;
  process.kill(pid, 'SIGKILL');
  const left = await h.leftovers();
  assert.ok(
    left.some((l) => l.startsWith('process ')),
    left.join('\n'),
  );
  assert.ok(
    left.some((l) => l.startsWith('netns ')),
    left.join('\n'),
  );
  assert.ok(
    left.some((l) => l.startsWith('bridge ')),
    left.join('\n'),
  );
  assert.ok(
    left.some((l) => l.startsWith('iptables ')),
    left.join('\n'),
  );
  const r = await h.up();
  assert.match(r.stderr, /cleaned up after a mesh that did not stop: .*process \d+.*netns trellis\./);
  const s = await h.status();
  assert.ok(s.pods.every((p) => p.ready));
  assert.notEqual(s.pid, pid);
});

test('down removes every process, namespace, /etc/netns entry, bridge and iptables rule', {
  skip,
}, async () => {
  const s = await h.status();
  const pids = s.pods.flatMap((p) => p.containers.map((c) => c.pid)).filter((p) => p !== undefined);
  const r = await h.down();
  assert.equal(r.code, 0, r.stderr);
  for (const pid of [s.pid, ...pids]) assert.equal(isProcessAlive(pid), false, `pid ${pid} is gone`);
  const prefix = `trellis.${h.name}.`;
  assert.equal(
    (await run('ip', ['netns', 'list'])).split('\n').filter((l) => l.startsWith(prefix)).length,
    0,
    'namespaces',
  );
  assert.equal(
    existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((d) => d.startsWith(prefix)).length : 0,
    0,
    '/etc/netns',
  );
  const bridge = bridgeName(h.name);
  assert.doesNotMatch(await run('ip', ['-o', 'link', 'show']), new RegExp(`${bridge}[:@]`), 'bridge');
  assert.doesNotMatch(await run('iptables-save', []), new RegExp(bridge), 'iptables rules');
  assert.doesNotMatch(
    await run('ip', ['-4', 'route', 'show', 'table', 'all']),
    new RegExp(`10\\.213\\.${third}\\.`),
    'routes',
  );
  assert.deepEqual(await h.leftovers(), []);
});
