import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { generateP256 } from './keys.js';
import { MeshCa } from './mesh-ca.js';
import { splitPemCertificates } from './pem.js';
import { STATE_FILES } from './state-files.js';
import { x509 } from './x509.js';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function stateDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'trellis-ca-'));
  dirs.push(d);
  return join(d, 'state');
}

async function workloadKey() {
  const keys = await generateP256();
  return x509.PublicKey.create(keys.publicKey as never);
}

const reviews = { namespace: 'default', serviceAccount: 'reviews' };

test('first start creates a P-256 root valid 10 years, keys 0600 in a 0700 directory', async () => {
  const dir = await stateDir();
  const ca = await MeshCa.open({ stateDir: dir });
  after(() => ca.close());
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  for (const secret of [STATE_FILES.caKey, STATE_FILES.tokenKey]) {
    assert.equal((await stat(join(dir, secret))).mode & 0o777, 0o600, secret);
  }
  const root = new x509.X509Certificate(await readFile(join(dir, STATE_FILES.caCert), 'utf8'));
  assert.deepEqual(root.publicKey.algorithm, { name: 'ECDSA', namedCurve: 'P-256' });
  const bc = root.getExtension(x509.BasicConstraintsExtension)!;
  assert.equal(bc.ca, true);
  assert.equal(bc.critical, true);
  const ku = root.getExtension(x509.KeyUsagesExtension)!;
  assert.ok(ku.usages & x509.KeyUsageFlags.keyCertSign);
  const years = (root.notAfter.getTime() - root.notBefore.getTime()) / (365 * 86_400_000);
  assert.ok(years > 9.99 && years < 10.01, `root lifetime ${years} years`);
  assert.equal(ca.trustBundle.roots.length, 1);
  assert.equal(ca.signingRoot.fingerprint, ca.trustBundle.roots[0]!.fingerprint);
});

test('the CA state survives a restart: same root, same token key', async () => {
  const dir = await stateDir();
  const first = await MeshCa.open({ stateDir: dir });
  const token = await first.tokenIssuer.issue({ ...reviews, podName: 'r-0', podUid: 'u' });
  const issued = await first.issueWorkloadCertificate({ publicKey: await workloadKey(), identity: reviews });
  const rootBefore = first.signingRoot.fingerprint;
  first.close();

  const second = await MeshCa.open({ stateDir: dir });
  after(() => second.close());
  assert.equal(second.signingRoot.fingerprint, rootBefore);
  assert.equal(second.trustBundle.roots.length, 1);
  assert.equal((await second.tokenVerifier.verify(token)).serviceAccount, 'reviews');
  // A certificate issued before the restart still chains to the bundle served after it.
  const leaf = new X509Certificate(issued.leafPem);
  assert.ok(leaf.verify(new X509Certificate(second.trustBundle.roots[0]!.pem).publicKey));
});

test('a workload certificate: one critical URI SAN, empty subject, CA:false, EKU server+client, 24 h', async () => {
  const clock = new ManualClock(Date.now());
  const ca = await MeshCa.open({ stateDir: await stateDir(), clock });
  after(() => ca.close());
  const issued = await ca.issueWorkloadCertificate({ publicKey: await workloadKey(), identity: reviews });
  assert.equal(issued.spiffeId, 'spiffe://cluster.local/ns/default/sa/reviews');
  const cert = new x509.X509Certificate(issued.leafPem);
  assert.equal(cert.subject, '');
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
  assert.equal(san.critical, true);
  assert.deepEqual(san.names.toJSON(), [{ type: 'url', value: issued.spiffeId }]);
  assert.equal(cert.getExtension(x509.BasicConstraintsExtension)!.ca, false);
  assert.deepEqual(
    [...cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages],
    [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  );
  assert.equal(cert.notAfter.getTime(), Math.floor((clock.now() + 86_400_000) / 1000) * 1000);
  // Istio's layout: the leaf first, the roots as the last element.
  assert.equal(issued.certChain.length, 2);
  assert.equal(issued.certChain[0], issued.leafPem);
  assert.equal(issued.certChain[1], ca.trustBundle.pem);
  assert.ok(new X509Certificate(issued.leafPem).verify(new X509Certificate(ca.signingRoot.pem).publicKey));
});

test('a requested lifetime is honoured up to the maximum', async () => {
  const clock = new ManualClock(Date.now());
  const ca = await MeshCa.open({ stateDir: await stateDir(), clock, maxWorkloadTtlMs: 7 * 86_400_000 });
  after(() => ca.close());
  const lifetime = async (ttlMs: number) => {
    const c = await ca.issueWorkloadCertificate({ publicKey: await workloadKey(), identity: reviews, ttlMs });
    return c.notAfter.getTime() - Math.floor(clock.now() / 1000) * 1000;
  };
  assert.equal(await lifetime(5 * 60_000), 5 * 60_000);
  assert.equal(await lifetime(30 * 86_400_000), 7 * 86_400_000);
});

test('root rotation: add (trusted, not signing), activate (signs), remove the old one', async () => {
  const dir = await stateDir();
  const ca = await MeshCa.open({ stateDir: dir });
  const oldRoot = ca.signingRoot;
  const changes: number[] = [];
  ca.onChange(() => changes.push(ca.trustBundle.roots.length));

  const next = await ca.addRoot();
  assert.notEqual(next.fingerprint, oldRoot.fingerprint);
  assert.notEqual(next.subject, oldRoot.subject, 'each root has its own name');
  assert.deepEqual(
    ca.trustBundle.roots.map((r) => r.fingerprint),
    [oldRoot.fingerprint, next.fingerprint],
  );
  const beforeActivation = await ca.issueWorkloadCertificate({
    publicKey: await workloadKey(),
    identity: reviews,
  });
  assert.ok(new X509Certificate(beforeActivation.leafPem).verify(new X509Certificate(oldRoot.pem).publicKey));
  assert.equal(
    splitPemCertificates(beforeActivation.certChain.at(-1)!).length,
    2,
    'workloads receive both roots',
  );
  await assert.rejects(ca.addRoot(), /already pending/);
  await assert.rejects(ca.activateRoot(oldRoot.fingerprint), /not the pending root/);

  // The pending state is on disk: a restart in the middle of a rotation keeps it.
  ca.close();
  const reopened = await MeshCa.open({ stateDir: dir });
  after(() => reopened.close());
  assert.equal(reopened.pendingRoot?.fingerprint, next.fingerprint);
  await reopened.activateRoot(next.fingerprint.slice(0, 12));
  assert.equal(reopened.signingRoot.fingerprint, next.fingerprint);
  assert.equal(reopened.trustBundle.roots[0]!.fingerprint, next.fingerprint, 'the signing root goes first');
  const afterActivation = await reopened.issueWorkloadCertificate({
    publicKey: await workloadKey(),
    identity: reviews,
  });
  assert.ok(new X509Certificate(afterActivation.leafPem).verify(new X509Certificate(next.pem).publicKey));
  const serving = new X509Certificate(reopened.servingCertificate.certChainPem);
  assert.ok(
    serving.verify(new X509Certificate(next.pem).publicKey),
    'the serving cert moves to the new root',
  );

  await assert.rejects(reopened.removeRoot(next.fingerprint), /anchors the signing chain/);
  await reopened.removeRoot(oldRoot.fingerprint);
  assert.deepEqual(
    reopened.trustBundle.roots.map((r) => r.fingerprint),
    [next.fingerprint],
  );
  const persisted = splitPemCertificates(await readFile(join(dir, STATE_FILES.rootCert), 'utf8'));
  assert.equal(persisted.length, 1);
  assert.deepEqual(changes, [2]);
});

test('a root that expires is refused at start with a message naming the file', async () => {
  const dir = await stateDir();
  const clock = new ManualClock(Date.now());
  const ca = await MeshCa.open({ stateDir: dir, clock, rootTtlMs: 3_600_000 });
  ca.close();
  clock.advance(2 * 3_600_000);
  await assert.rejects(MeshCa.open({ stateDir: dir, clock }), /ca-cert\.pem.*not valid now|not valid now/);
});

test('a state directory with a key but no certificate is reported, not silently replaced', async () => {
  const dir = await stateDir();
  const ca = await MeshCa.open({ stateDir: dir });
  ca.close();
  await rm(join(dir, STATE_FILES.caCert));
  await assert.rejects(MeshCa.open({ stateDir: dir }), /has ca-key\.pem but not ca-cert\.pem/);
});
