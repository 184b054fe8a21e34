import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BundleRolloutTracker, bundleDigest } from './bundle-rollout.js';
import { MeshCa } from './mesh-ca.js';

test('instances are followed across certificate-only renewals, and expire out of the view', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-rollout-'));
  const ca = await MeshCa.open({ stateDir: join(dir, 'ca') });
  after(async () => {
    ca.close();
    await rm(dir, { recursive: true, force: true });
  });
  const oldBundle = ca.trustBundle.pem;
  const oldAnchor = ca.signingRoot.fingerprint;
  const next = await ca.addRoot();
  const twoRoots = ca.trustBundle.pem;
  const t = new BundleRolloutTracker();
  const id = 'spiffe://cluster.local/ns/default/sa/reviews';
  t.record({
    spiffeId: id,
    podUid: 'p1',
    serial: 'a1',
    bundlePem: oldBundle,
    anchor: oldAnchor,
    issuedAt: 0,
    notAfter: 100,
  });
  t.record({
    spiffeId: id,
    serial: 'b1',
    bundlePem: oldBundle,
    anchor: oldAnchor,
    issuedAt: 0,
    notAfter: 100,
  });
  assert.equal(t.rollout(twoRoots, oldAnchor, 10).behind.length, 2);
  // The second instance renews with its certificate only: it is the same instance, now up to date.
  t.record({
    spiffeId: id,
    clientCertSerial: 'b1',
    serial: 'b2',
    bundlePem: twoRoots,
    anchor: oldAnchor,
    issuedAt: 10,
    notAfter: 200,
  });
  const view = t.rollout(twoRoots, oldAnchor, 10);
  assert.equal(view.workloads, 2);
  assert.deepEqual(
    view.behind.map((b) => b.instance),
    ['pod:p1'],
  );
  // Once p1's certificate has expired it cannot hold a connection: it no longer blocks the rotation.
  assert.deepEqual(t.rollout(twoRoots, oldAnchor, 150), {
    bundle: bundleDigest(twoRoots),
    workloads: 1,
    upToDate: 1,
    behind: [],
  });
  // After activation the same instance is behind for its signing root, not its bundle.
  assert.deepEqual(
    t.rollout(twoRoots, next.fingerprint, 150).behind.map((b) => b.reason),
    ['signing root'],
  );
});

test('the bundle digest ignores root order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-rollout-'));
  const ca = await MeshCa.open({ stateDir: join(dir, 'ca') });
  after(async () => {
    ca.close();
    await rm(dir, { recursive: true, force: true });
  });
  await ca.addRoot();
  const [a, b] = ca.trustBundle.roots;
  assert.equal(bundleDigest(a!.pem + b!.pem), bundleDigest(b!.pem + a!.pem));
  assert.notEqual(bundleDigest(a!.pem), bundleDigest(a!.pem + b!.pem));
});
