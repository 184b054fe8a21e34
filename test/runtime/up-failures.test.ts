// `trellis up -d` that cannot succeed: it fails with the reason, a non-zero exit, and nothing left behind.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { MeshHarness, TRELLIS_HOME } from '../e2e/harness.js';

const FIX = join(TRELLIS_HOME, 'test/runtime/fixtures/manifests');

test('invalid manifests refuse to start, naming file:line:col and the field', async () => {
  const h = MeshHarness.create({ manifests: [join(FIX, 'broken')], mode: 'host', planes: 'stand-in' });
  try {
    const r = await h.tryUp();
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /broken\.yaml:15:18: Deployment default\/mismatched: spec\.selector\.matchLabels: selector does not match the pod template's labels: app=one \(template has app=two\)/,
    );
    assert.equal(existsSync(h.paths.pidFile), false);
    assert.deepEqual(await h.leftovers(), []);
  } finally {
    await h.close();
  }
});

test('a pod that never turns ready fails up -d after --timeout with the pod, the reason and where its logs are', async () => {
  const h = MeshHarness.create({
    manifests: [join(FIX, 'never-ready')],
    mode: 'host',
    planes: 'stand-in',
    readyTimeoutS: 2,
  });
  try {
    const r = await h.tryUp();
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /not ready after 2 s: default\/never-[0-9a-f]{6}-0 \(container never is waiting for readiness probe TCP :9; logs in \S+\/pods\/default\.never-[0-9a-f]{6}-0\/logs\)/,
    );
    assert.equal(existsSync(h.paths.pidFile), false);
    assert.deepEqual(await h.leftovers(), []);
  } finally {
    await h.close();
  }
});

test('a missing control plane is reported as such', async () => {
  const h = MeshHarness.create({
    manifests: [],
    mode: 'host',
    planes: 'stand-in',
    env: { TRELLIS_CONTROL_PLANE_MODULE: '/nonexistent/main.js' },
  });
  try {
    const r = await h.tryUp();
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /the control plane is not part of this build \(\/nonexistent\/main\.js is missing\)/,
    );
  } finally {
    await h.close();
  }
});

test('an ingress port in use is named, with what to do about it', async () => {
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as net.AddressInfo).port;
  const h = MeshHarness.create({
    manifests: [join(FIX, 'basic/sleep.yaml'), join(FIX, 'extra/gateway.yaml')],
    mode: 'host',
    planes: 'stand-in',
    ingressPort: port,
    readyTimeoutS: 2,
  });
  try {
    const r = await h.tryUp();
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `the ingress gateway cannot listen on 127\\.0\\.0\\.1:${port}: in use by another mesh or program; choose another --ingress-port`,
      ),
    );
    assert.deepEqual(await h.leftovers(), []);
  } finally {
    busy.close();
    await h.close();
  }
});
