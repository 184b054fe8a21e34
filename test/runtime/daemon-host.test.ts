// The mesh daemon in host mode, driven through the CLI with the stand-in control plane and sidecar: up -d,
// status, exec, logs, apply/get/delete, restarts with backoff, job completion, ingress, restart, down.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isProcessAlive } from '../../src/runtime/state-dir.js';
import { MeshHarness, TRELLIS_HOME } from '../e2e/harness.js';

const FIX = join(TRELLIS_HOME, 'test/runtime/fixtures/manifests');
let h: MeshHarness;

before(async () => {
  h = await MeshHarness.start({
    manifests: [join(FIX, 'basic')],
    mode: 'host',
    planes: 'stand-in',
    env: {
      TRELLIS_RESTART_BACKOFF: '200:1600',
      TRELLIS_ENDPOINT_DRAIN_MS: '50',
      TRELLIS_DRAIN_TIMEOUT_MS: '1000',
    },
  });
});

after(async () => {
  await h?.close();
});

test('up -d returns once every pod is ready, and status -o json describes them', async () => {
  const s = await h.status();
  assert.equal(s.mode, 'host');
  assert.equal(s.phase, 'running');
  assert.match(s.addresses.api ?? '', /^127\.0\.0\.1:\d+$/);
  assert.match(s.addresses.xdsTls ?? '', /^127\.0\.0\.1:\d+$/);
  assert.deepEqual(s.pods.map((p) => p.deployment).sort(), ['httpbin', 'sleep']);
  for (const p of s.pods) {
    assert.equal(p.ready, true, `${p.name}: ${p.message}`);
    assert.equal(p.restarts, 0);
    assert.match(p.ip, /^127\.1\.\d+\.\d+$/);
    assert.match(p.name, new RegExp(`^${p.deployment}-[0-9a-f]{6}-0$`));
    assert.equal(p.sidecar?.stats, `${p.ip}:15090`);
    assert.match(p.sidecar?.admin ?? '', /^unix:.*admin\.sock$/);
  }
  const httpbin = s.pods.find((p) => p.deployment === 'httpbin')!;
  assert.deepEqual(httpbin.labels, { app: 'httpbin', version: 'v1', 'istio-locality': 'region1.zone1' });
  assert.equal(httpbin.locality, 'region1/zone1/');
});

test('a second up with the same name refuses and leaves the running mesh alone', async () => {
  const r = await h.cli(['up', join(FIX, 'basic'), '-d', '--mode', 'host']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /already running \(pid \d+/);
  assert.equal((await h.status()).phase, 'running');
});

test('exec runs with the pod env, and the app reaches services through its sidecar', async () => {
  const env = await h.exec('deploy/sleep', [
    'sh',
    '-c',
    'echo "$POD_NAME|$POD_NAMESPACE|$BIND_ADDRESS|$HTTP_PROXY|$INSTANCE_IP"',
  ]);
  assert.equal(env.code, 0, env.stderr);
  const sleep = await h.pod('sleep');
  const app = sleep.ip.replace(/^127\.1\./, '127.2.');
  assert.equal(env.stdout.trim(), `${sleep.name}|default|${app}|http://${sleep.ip}:15080|${app}`);
  const r = await h.exec('deploy/sleep', ['fetch', '-s', '-i', 'http://httpbin:8000/headers']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^HTTP\/1\.1 200/);
  assert.match(r.stdout, new RegExp(`x-standin-proxy: ${sleep.name}`));
  const failed = await h.exec('deploy/sleep', ['sh', '-c', 'exit 7']);
  assert.equal(failed.code, 7, 'exec passes on the exit code');
});

test('logs show the app (by default) and the sidecar (-c proxy)', async () => {
  const app = await h.logs('deploy/httpbin');
  assert.match(app, /httpbin listening on 127\.2\.\d+\.\d+:8080/);
  assert.match(app, /"GET \/headers HTTP\/1\.1" 200/);
  const proxy = await h.logs('deploy/httpbin', 'proxy');
  assert.match(proxy, /stand-in sidecar sidecar~127\.1\.\d+\.\d+~httpbin-/);
  const missing = await h.cli(['logs', 'nosuchpod']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /pod "nosuchpod" not found/);
});

test('logs -f follows new lines as the app writes them', async () => {
  const follow = spawn(
    process.execPath,
    [join(TRELLIS_HOME, 'bin/trellis.js'), 'logs', 'deploy/httpbin', '-f', '--tail', '1', '--name', h.name],
    {
      env: h.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const seen = (re: RegExp) =>
    new Promise<void>((resolve) => {
      const check = () => re.test(out) && resolve();
      follow.stdout.on('data', (d) => {
        out += d;
        check();
      });
      check();
    });
  try {
    await seen(/\n/);
    assert.doesNotMatch(out, /listening on/, '--tail 1 skips the start of the log');
    const r = await h.exec('deploy/sleep', [
      'fetch',
      '-s',
      '-o',
      '/dev/null',
      'http://httpbin:8000/anything/followed',
    ]);
    assert.equal(r.code, 0, r.stderr);
    await seen(/"GET \/anything\/followed HTTP\/1\.1" 200/);
  } finally {
    follow.kill();
  }
});

test('apply, get and delete round-trip Istio kinds through the control plane', async () => {
  const file = join(FIX, 'extra/routing.yaml');
  const applied = await h.apply([file]);
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(
    applied.stdout,
    'destinationrule.networking.istio.io/httpbin created\nvirtualservice.networking.istio.io/httpbin created\n',
  );
  const again = await h.apply([file]);
  assert.match(again.stdout, /virtualservice\.networking\.istio\.io\/httpbin unchanged/);
  const vs = await h.cli(['get', 'vs', 'httpbin', '-o', 'json']);
  assert.equal(vs.code, 0, vs.stderr);
  assert.deepEqual(JSON.parse(vs.stdout).spec.hosts, ['httpbin']);
  const table = await h.cli(['get', 'destinationrules']);
  assert.match(table.stdout, /^NAMESPACE\s+NAME\s+AGE\ndefault\s+httpbin\s+\d+s\n$/);
  const deleted = await h.cli(['delete', '-f', file]);
  assert.equal(deleted.code, 0, deleted.stderr);
  const gone = await h.cli(['get', 'virtualservice', 'httpbin']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /VirtualService "httpbin" not found/);
});

test('an invalid batch is refused whole, with the validation errors', async () => {
  const runtimeRefusal = await h.apply([join(FIX, 'extra/invalid-runtime.yaml')]);
  assert.equal(runtimeRefusal.code, 1);
  assert.match(
    runtimeRefusal.stderr,
    /invalid-runtime\.yaml:9:1: Deployment default\/imageonly: spec\.template\.spec\.containers\[0\]: no command/,
  );
  assert.match(runtimeRefusal.stderr, /nothing was applied/);
  assert.equal(
    (await h.cli(['get', 'dr', 'refused-with-batch'])).code,
    1,
    'the valid DestinationRule was not applied',
  );

  const planeRefusal = await h.apply([join(FIX, 'extra/invalid-istio.yaml')]);
  assert.equal(planeRefusal.code, 1);
  assert.match(
    planeRefusal.stderr,
    /invalid-istio\.yaml:10:1: VirtualService no-hosts: spec\.hosts is required/,
  );
  assert.equal((await h.cli(['get', 'svc', 'refused-service'])).code, 1, 'the valid Service was not applied');

  const yamlError = await h.apply(['-'], 'apiVersion: v1\nkind: Service\nmetadata: { name: x\n');
  assert.equal(yamlError.code, 1);
  assert.match(yamlError.stderr, /<stdin>:\d+:\d+: YAML:/);
});

test('a new replica count and a new Service take effect on the running mesh', async () => {
  const r = await h.apply([join(FIX, 'extra/scale.yaml')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /deployment\.apps\/httpbin configured/);
  assert.match(r.stdout, /service\/extra created/);
  const s = await h.waitFor(
    'two ready httpbin pods',
    (x) => x.pods.filter((p) => p.deployment === 'httpbin' && p.ready).length === 2,
  );
  const names = s.pods.filter((p) => p.deployment === 'httpbin').map((p) => p.name.replace(/-\d$/, ''));
  assert.equal(new Set(names).size, 1, 'the template did not change, so the first pod stays');
  const svc = await h.cli(['get', 'svc', 'extra']);
  assert.match(svc.stdout, /extra\s+10\.214\.\d+\.\d+\s+80\/TCP/);
  const deploy = await h.cli(['get', 'deploy', 'httpbin']);
  assert.match(deploy.stdout, /httpbin\s+2\/2/);
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

test('a crashing app restarts with doubling backoff, and its pod is unready meanwhile', async () => {
  const r = await h.apply([join(FIX, 'extra/crasher.yaml')]);
  assert.equal(r.code, 0, r.stderr);
  const s = await h.waitFor(
    'three restarts of the crasher',
    (x) => (x.pods.find((p) => p.deployment === 'crasher')?.restarts ?? 0) >= 3,
  );
  const pod = s.pods.find((p) => p.deployment === 'crasher')!;
  assert.equal(pod.ready, false);
  const log = await h.logs('deploy/crasher');
  assert.match(log, /crashing as crasher-/);
  const delays = [...log.matchAll(/restarting crasher in (\d+) ms/g)].map((m) => Number(m[1]));
  assert.deepEqual(delays.slice(0, 3), [200, 400, 800]);
  const pods = await h.cli(['get', 'pods']);
  assert.match(pods.stdout, /crasher-\S+\s+1\/2\s+(CrashLoopBackOff|Running)/);
  assert.equal((await h.cli(['delete', 'deploy', 'crasher'])).code, 0);
  await h.waitFor('the crasher gone', (x) => !x.pods.some((p) => p.deployment === 'crasher'));
});

test('a killed sidecar is restarted; its pod is unready until the sidecar is ready again', async () => {
  const sleep = await h.pod('sleep');
  const proxy = sleep.containers.find((c) => c.role === 'proxy')!;
  const total = (await h.status()).pods.length;
  const logStart = statSync(h.paths.daemonLog).size;
  process.kill(proxy.pid!, 'SIGKILL');
  const s = await h.waitFor('the sidecar back', (x) => {
    const c = x.pods.find((p) => p.name === sleep.name)?.containers.find((c) => c.role === 'proxy');
    return c?.restarts === 1 && x.pods.find((p) => p.name === sleep.name)?.ready === true;
  });
  const again = s.pods.find((p) => p.name === sleep.name)!.containers.find((c) => c.role === 'proxy')!;
  assert.notEqual(again.pid, proxy.pid);
  assert.equal(
    s.pods.find((p) => p.name === sleep.name)!.containers.find((c) => c.role === 'app')!.restarts,
    0,
    'the app kept running',
  );
  // The daemon logs every change of the ready count: down by one while the sidecar was away, then back.
  const log = readFileSync(h.paths.daemonLog, 'utf8').slice(logStart);
  assert.match(log, new RegExp(`pods ready: ${total - 1} of ${total}[^]*pods ready: ${total} of ${total}`));
  assert.match(
    await h.logs(sleep.name, 'proxy'),
    /istio-proxy exited on SIGKILL\n\[trellis\] restarting istio-proxy in 200 ms/,
  );
});

test('a job-like pod (restartPolicy Never) completes, and its sidecar exits too', async () => {
  const r = await h.apply([join(FIX, 'extra/job.yaml')]);
  assert.equal(r.code, 0, r.stderr);
  const s = await h.waitFor('the job to complete', (x) => {
    const p = x.pods.find((q) => q.deployment === 'once');
    return p?.phase === 'Succeeded' && p.containers.every((c) => c.pid === undefined);
  });
  const pod = s.pods.find((p) => p.deployment === 'once')!;
  assert.deepEqual(
    pod.containers.map((c) => [c.name, c.state, c.exitCode]),
    [
      ['istio-proxy', 'stopped', 0],
      ['once', 'completed', 0],
    ],
  );
  assert.match(await h.logs('deploy/once'), /job got 200/);
  assert.match(await h.logs('deploy/once', 'proxy'), /draining/);
  assert.match((await h.cli(['get', 'pods'])).stdout, /once-\S+\s+0\/2\s+Completed/);
});

test('a Gateway selecting istio: ingressgateway starts the ingress gateway on 127.0.0.1', async () => {
  const r = await h.apply([join(FIX, 'extra/gateway.yaml')]);
  assert.equal(r.code, 0, r.stderr);
  const s = await h.waitFor('the ingress gateway', (x) => x.ingress?.ready === true);
  assert.match(s.ingressUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
  const hostPort = s.ingressUrl!.split(':').pop();
  assert.deepEqual(s.ingress?.portMap, { '8080': hostPort });
  const res = await fetch(`${s.ingressUrl}/status/200`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-standin-proxy'), 'istio-ingressgateway-0');
  assert.match(
    await h.logs('istio-ingressgateway'),
    /router~127\.1\.\d+\.254~istio-ingressgateway-0\.istio-system/,
  );
});

test('applied config survives a restart of the mesh', async () => {
  const down = await h.down();
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(await h.leftovers(), []);
  await h.up();
  const s = await h.status();
  // `up DIR` applies DIR again over the saved state: httpbin is back to DIR's one replica.
  assert.equal(s.pods.filter((p) => p.deployment === 'httpbin').length, 1, 'DIR re-applied');
  assert.equal(
    s.pods.some((p) => p.deployment === 'crasher'),
    false,
    'the deleted Deployment',
  );
  assert.equal((await h.cli(['get', 'gw', 'httpbin-gateway'])).code, 0);
  assert.equal((await h.cli(['get', 'svc', 'extra'])).code, 0);
  assert.equal(s.ingress?.ready, true);
});

test('down stops everything and leaves nothing behind', async () => {
  const pids = (await h.status()).pods
    .flatMap((p) => p.containers.map((c) => c.pid))
    .filter((p) => p !== undefined);
  assert.ok(pids.length >= 4);
  const r = await h.down();
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /mesh "\S+" stopped; no process(, network namespace, bridge or iptables rule)? of it is left/,
  );
  for (const pid of pids) assert.equal(isProcessAlive(pid), false, `pid ${pid} is gone`);
  assert.deepEqual(await h.leftovers(), []);
  const status = await h.cli(['status']);
  assert.equal(status.code, 1);
  assert.match(status.stderr, /is not running/);
});
