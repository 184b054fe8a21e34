// `trellis demo` end to end with the stand-in planes: Bookinfo comes up behind the ingress gateway, traffic flows
// (some of it signed in as jason), and Ctrl-C cleans everything up; in host mode, and in netns mode as root.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEMO_MANIFESTS } from '../../src/cli/commands/demo.js';
import { taggedProcesses } from '../../src/runtime/leftovers.js';
import type { MeshStatus } from '../../src/runtime/mesh.js';
import { netnsUnavailable } from '../../src/runtime/mode.js';
import { MeshPaths, readJson } from '../../src/runtime/state-dir.js';
import { standInEnv, TRELLIS_HOME, trellis } from '../e2e/harness.js';

const missing = DEMO_MANIFESTS.filter((f) => !existsSync(join(TRELLIS_HOME, f)));
const noManifests =
  missing.length > 0 ? `the demo's manifests are not in this checkout: ${missing.join(', ')}` : undefined;

async function runDemo(mode: 'host' | 'netns', extra: string[] = []): Promise<void> {
  const stateRoot = mkdtempSync(join(tmpdir(), 'trellis-demo-'));
  const name = `demo${process.pid % 10000}${mode[0]}`;
  const env = {
    ...process.env,
    ...standInEnv(),
    TRELLIS_STATE_DIR: stateRoot,
    TRELLIS_DRAIN_TIMEOUT_MS: '1000',
  };
  const child = spawn(
    process.execPath,
    [
      join(TRELLIS_HOME, 'bin/trellis.js'),
      'demo',
      '--name',
      name,
      '--mode',
      mode,
      '--ingress-port',
      '0',
      ...extra,
    ],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = () => {
        if (stderr.includes('Ctrl-C stops the demo')) resolve();
      };
      child.stderr.on('data', onData);
      void exited.then((code) =>
        reject(new Error(`trellis demo exited (${code}) before it was up:\n${stderr}`)),
      );
    });
    const status = readJson<MeshStatus>(new MeshPaths(name, join(stateRoot, name)).statusFile)!;
    assert.equal(status.mode, mode);
    assert.match(stderr, new RegExp(`the app:\\s+${status.ingressUrl}/productpage`));
    assert.match(stderr, /dashboard:\s+http:\/\/127\.0\.0\.1:\d+\//);
    assert.deepEqual(status.pods.map((p) => p.deployment).sort(), [
      'details-v1',
      'productpage-v1',
      'ratings-v1',
      'reviews-v1',
      'reviews-v2',
      'reviews-v3',
    ]);
    // Ready pods reach the proxies' endpoints a moment later (the stand-in polls its control plane).
    let page = await fetch(`${status.ingressUrl}/productpage`);
    for (let i = 0; i < 50 && page.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      page = await fetch(`${status.ingressUrl}/productpage`);
    }
    assert.equal(page.status, 200);
    assert.match(await page.text(), /The Comedy of Errors/);
    // The demo's own traffic: wait until productpage has seen a sign-in as jason and a few page views.
    const until = Date.now() + 20_000;
    let log = '';
    while (Date.now() < until) {
      const r = await trellis(['logs', 'deploy/productpage-v1', '--name', name], { env });
      log = r.stdout;
      if (/POST \/login/.test(log) && (log.match(/GET \/productpage/g) ?? []).length >= 4) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(log, /"POST \/login HTTP\/1\.1" 302/);
    assert.ok((log.match(/"GET \/productpage HTTP\/1\.1" 200/g) ?? []).length >= 4, log);
    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /stopped/);
    assert.deepEqual(taggedProcesses(new MeshPaths(name, join(stateRoot, name)).processTag), []);
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    // After a failure the daemon may have died without stopping its pods: `down` removes what it left.
    await trellis(['down', '--name', name], { env });
    rmSync(stateRoot, { recursive: true, force: true });
  }
}

test(
  'trellis demo in host mode: Bookinfo through the ingress, steady traffic, Ctrl-C cleans up',
  { skip: noManifests },
  () => runDemo('host'),
);

const netnsSkip = noManifests ?? (await netnsUnavailable());
test('trellis demo in netns mode', { skip: netnsSkip }, () =>
  runDemo('netns', ['--pod-cidr', `10.213.${230 + (process.pid % 20)}.0/24`]),
);
