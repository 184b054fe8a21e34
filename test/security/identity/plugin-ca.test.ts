// A plug-in CA (Istio's cacerts files: an intermediate signed by an offline root) issues chains that verify to that root.

import assert from 'node:assert/strict';
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  createRootCertificate,
  issueIntermediateCertificate,
  type Signer,
} from '../../../src/controlplane/ca/certificates.js';
import { MeshCa } from '../../../src/controlplane/ca/index.js';
import { generateP256, p256SigningKey, privateKeyToPem } from '../../../src/controlplane/ca/keys.js';
import { x509 } from '../../../src/controlplane/ca/x509.js';
import { MeshTls } from '../../../src/sidecar/identity/index.js';
import { agentFor, exchange, identityEcho, type RunningCa, startCa, tempDir } from './fixtures.js';

const DAY = 86_400_000;
const REVIEWS = 'spiffe://cluster.local/ns/default/sa/reviews';
const PRODUCTPAGE = 'spiffe://cluster.local/ns/default/sa/productpage';

interface Offline {
  root: Signer;
  rootPem: string;
}

async function offlineRoot(): Promise<Offline> {
  const keys = await generateP256();
  const now = Date.now();
  const cert = await createRootCertificate({
    trustDomain: 'cluster.local',
    keys,
    signingKey: p256SigningKey(keys),
    validity: { notBefore: new Date(now - DAY), notAfter: new Date(now + 3650 * DAY) },
  });
  return { root: { cert, signingKey: p256SigningKey(keys) }, rootPem: cert.toString('pem') };
}

/** An RSA-2048 intermediate, as Istio's sample plug-in certs use, with its key in PKCS#1 PEM. */
async function rsaIntermediate(offline: Offline, validity?: { notBefore: Date; notAfter: Date }) {
  const keys = (await webcrypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      hash: 'SHA-256',
      publicExponent: new Uint8Array([1, 0, 1]),
      modulusLength: 2048,
    },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await issueIntermediateCertificate(offline.root, {
    publicKey: await x509.PublicKey.create(keys.publicKey as never),
    subject: 'O=Istio, CN=Intermediate CA, L=cluster-1',
    validity: validity ?? { notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY) },
  });
  const pkcs8 = await privateKeyToPem(keys.privateKey);
  const pkcs1 = createPrivateKey(pkcs8).export({ type: 'pkcs1', format: 'pem' }) as string;
  return { certPem: cert.toString('pem'), keyPem: pkcs1 };
}

async function writePlugin(dir: string, files: Record<string, string>): Promise<string> {
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
  return dir;
}

let offline: Offline;
let pluginDir: string;
let running: RunningCa;
let intermediatePem: string;
const dirs: { remove(): Promise<void> }[] = [];

before(async () => {
  offline = await offlineRoot();
  const intermediate = await rsaIntermediate(offline);
  intermediatePem = intermediate.certPem;
  const d = await tempDir('trellis-plugin-');
  dirs.push(d);
  pluginDir = await writePlugin(d.path, {
    'ca-cert.pem': intermediate.certPem,
    'ca-key.pem': intermediate.keyPem,
    'root-cert.pem': offline.rootPem,
    // Istio's layout: the intermediate, then the root.
    'cert-chain.pem': intermediate.certPem + offline.rootPem,
  });
  running = await startCa({ pluginCertsDir: pluginDir });
});

after(async () => {
  await running.close();
  await Promise.all(dirs.map((d) => d.remove()));
});

test('workload chains are leaf, intermediate, and the plug-in root last', async () => {
  assert.equal(running.ca.mode, 'plugin');
  const agent = await agentFor(running, 'reviews');
  const secrets = await agent.start();
  agent.stop();
  const chain = secrets.default.chain.map((c) => new X509Certificate(c.pem));
  assert.equal(chain.length, 2, 'leaf and intermediate');
  assert.equal(chain[1]!.fingerprint256, new X509Certificate(intermediatePem).fingerprint256);
  const root = new X509Certificate(offline.rootPem);
  assert.deepEqual(
    secrets.rootCa.roots.map((r) => r.fingerprint),
    [root.fingerprint256.replaceAll(':', '').toLowerCase()],
  );
  assert.ok(
    chain[0]!.checkIssued(chain[1]!) && chain[0]!.verify(chain[1]!.publicKey),
    'leaf signed by the intermediate',
  );
  assert.ok(
    chain[1]!.checkIssued(root) && chain[1]!.verify(root.publicKey),
    'intermediate signed by the offline root',
  );
  assert.ok(new X509Certificate(running.ca.servingCertificate.certChainPem).verify(chain[1]!.publicKey));
});

test('two workloads with plug-in certificates do mutual TLS trusting only the offline root', async () => {
  const reviews = await agentFor(running, 'reviews');
  const productpage = await agentFor(running, 'productpage');
  await Promise.all([reviews.start(), productpage.start()]);
  const serverTls = new MeshTls(reviews);
  const clientTls = new MeshTls(productpage);
  const server = serverTls.createServer({});
  const port = await identityEcho(server);
  try {
    const result = await exchange(
      clientTls.connect({ host: '127.0.0.1', port, allowedIdentities: [REVIEWS] }),
    );
    assert.equal(result.data, `pong ${PRODUCTPAGE}`);
    assert.equal(result.peer, REVIEWS);
  } finally {
    server.close();
    serverTls.close();
    clientTls.close();
    reviews.stop();
    productpage.stop();
  }
});

test('broken plug-in files are refused at start, naming the file and the cause', async () => {
  const other = await offlineRoot();
  const good = await rsaIntermediate(offline);
  const foreign = await rsaIntermediate(other);
  const now = Date.now();
  const expired = await rsaIntermediate(offline, {
    notBefore: new Date(now - 3 * DAY),
    notAfter: new Date(now - DAY),
  });
  const leafLike = await (async () => {
    const keys = await generateP256();
    const cert = await x509.X509CertificateGenerator.create({
      subject: 'CN=not a ca',
      issuer: offline.root.cert.subjectName,
      publicKey: await x509.PublicKey.create(keys.publicKey as never),
      signingKey: offline.root.signingKey.key,
      signingAlgorithm: offline.root.signingKey.algorithm,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + DAY),
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
    });
    return { certPem: cert.toString('pem'), keyPem: await privateKeyToPem(keys.privateKey) };
  })();
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'key of another certificate',
      { 'ca-cert.pem': good.certPem, 'ca-key.pem': foreign.keyPem },
      /ca-key\.pem does not hold the private key of/,
    ],
    [
      'chain to another root',
      { 'ca-cert.pem': foreign.certPem, 'ca-key.pem': foreign.keyPem },
      /no root signs/,
    ],
    [
      'expired intermediate',
      { 'ca-cert.pem': expired.certPem, 'ca-key.pem': expired.keyPem },
      /not valid now/,
    ],
    [
      'not a CA',
      { 'ca-cert.pem': leafLike.certPem, 'ca-key.pem': leafLike.keyPem },
      /is not a CA certificate/,
    ],
    ['missing key', { 'ca-cert.pem': good.certPem }, /ca-key\.pem cannot be read/],
  ];
  for (const [name, files, message] of cases) {
    const d = await tempDir('trellis-plugin-bad-');
    dirs.push(d);
    await writePlugin(d.path, { 'root-cert.pem': offline.rootPem, ...files });
    const state = await tempDir('trellis-ca-');
    dirs.push(state);
    await assert.rejects(MeshCa.open({ stateDir: state.path, pluginCertsDir: d.path }), message, name);
  }
});
