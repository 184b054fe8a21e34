// Replacing the root through a two-root bundle, under steady traffic, with zero failures.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { TrustedRoot } from '../../../src/controlplane/ca/index.js';
import {
  type IdentityAgent,
  MeshTls,
  type SecretsSource,
  type WorkloadSecrets,
} from '../../../src/sidecar/identity/index.js';
import {
  agentFor,
  exchange,
  lineEcho,
  longLived,
  type RunningCa,
  startCa,
  startTraffic,
} from './fixtures.js';

const REVIEWS = 'spiffe://cluster.local/ns/default/sa/reviews';
const PRODUCTPAGE = 'spiffe://cluster.local/ns/default/sa/productpage';

let running: RunningCa;
let reviews: IdentityAgent;
let productpage: IdentityAgent;

before(async () => {
  running = await startCa();
  reviews = await agentFor(running, 'reviews');
  productpage = await agentFor(running, 'productpage');
  await Promise.all([reviews.start(), productpage.start()]);
});

after(async () => {
  reviews.stop();
  productpage.stop();
  await running.close();
});

function signedBy(secrets: WorkloadSecrets, root: TrustedRoot): boolean {
  const chain = secrets.default.chain;
  return new X509Certificate(chain.at(-1)!.pem).verify(new X509Certificate(root.pem).publicKey);
}

function fixed(secrets: WorkloadSecrets): SecretsSource {
  return { current: () => secrets, subscribe: () => () => {} };
}

test('add a root, sign with it, drop the old one: no request fails, the old connection survives', {
  timeout: 60_000,
}, async () => {
  const serverTls = new MeshTls(reviews);
  const clientTls = new MeshTls(productpage);
  const server = serverTls.createServer({});
  const port = await lineEcho(server);
  const connect = () => clientTls.connect({ host: '127.0.0.1', port, allowedIdentities: [REVIEWS] });
  const traffic = startTraffic({
    connect,
    check: (reply) =>
      reply.data.startsWith(`pong ${PRODUCTPAGE} `) && reply.peer === REVIEWS
        ? undefined
        : `reply ${JSON.stringify(reply.data)} peer ${reply.peer} error ${reply.error?.message}`,
  });
  const steady = longLived({ socket: connect() });
  const oldRoot = running.ca.signingRoot;
  const beforeRotation = productpage.current()!;
  await traffic.more(10);

  const behind = () =>
    running.service
      .bundleRollout()
      .behind.map((b) => `${b.spiffeId.split('/').at(-1)}:${b.reason}`)
      .sort();
  assert.deepEqual(behind(), []);

  // Step 1: a second root is trusted everywhere before anything is signed with it.
  const newRoot = await running.ca.addRoot();
  assert.deepEqual(
    behind(),
    ['productpage:bundle', 'reviews:bundle'],
    'the CA knows who lacks the new bundle',
  );
  await Promise.all([reviews.renewNow(), productpage.renewNow()]);
  assert.deepEqual(behind(), [], 'everyone has both roots: safe to activate');
  for (const agent of [reviews, productpage]) {
    const s = agent.current()!;
    assert.equal(s.rootCa.roots.length, 2, 'ROOTCA holds both roots');
    assert.ok(signedBy(s, oldRoot), 'still signed by the old root');
  }
  await traffic.more(10);

  // Step 2: the new root signs. Workloads move one at a time; mixed pairs must keep working.
  await running.ca.activateRoot(newRoot.fingerprint);
  assert.deepEqual(behind(), ['productpage:signing root', 'reviews:signing root']);
  await productpage.renewNow();
  assert.deepEqual(behind(), ['reviews:signing root'], 'not yet safe to remove the old root');
  assert.ok(signedBy(productpage.current()!, newRoot));
  assert.ok(signedBy(reviews.current()!, oldRoot));
  await traffic.more(10);
  await reviews.renewNow();
  assert.ok(signedBy(reviews.current()!, newRoot));
  assert.deepEqual(
    behind(),
    [],
    'every workload has a certificate from the new root: safe to remove the old one',
  );
  await traffic.more(10);

  // A peer that never received the two-root bundle would refuse the new certificates:
  // the propagation step above is what makes the rotation safe.
  const stale = new MeshTls(fixed(beforeRotation));
  const staleResult = await exchange(
    stale.connect({ host: '127.0.0.1', port, allowedIdentities: [REVIEWS] }),
  );
  assert.equal(staleResult.data, '', 'a peer trusting only the old root refuses the new certificate');
  stale.close();

  // Step 3: the old root is dropped once every workload has a certificate from the new one.
  await running.ca.removeRoot(oldRoot.fingerprint);
  assert.deepEqual(behind(), ['productpage:bundle', 'reviews:bundle']);
  await Promise.all([reviews.renewNow(), productpage.renewNow()]);
  assert.deepEqual(behind(), []);
  for (const agent of [reviews, productpage]) {
    assert.deepEqual(
      agent.current()!.rootCa.roots.map((r) => r.fingerprint),
      [newRoot.fingerprint],
    );
  }
  await traffic.more(10);
  await traffic.stop();

  // A client certificate from the dropped root is refused now, even by a client that trusts the new root.
  const oldCertNewBundle = new MeshTls(fixed({ ...beforeRotation, rootCa: reviews.current()!.rootCa }));
  const oldCert = await exchange(
    oldCertNewBundle.connect({ host: '127.0.0.1', port, allowedIdentities: [REVIEWS] }),
  );
  oldCertNewBundle.close();
  assert.equal(oldCert.data, '', 'a certificate from the removed root is refused');

  const replies = steady.replies;
  await new Promise((r) => setTimeout(r, 150));
  assert.ok(steady.replies > replies, 'the connection opened under the old root still carries traffic');
  await steady.stop();
  server.close();
  serverTls.close();
  clientTls.close();

  assert.deepEqual(traffic.failures, []);
  assert.deepEqual(steady.problems, []);
  assert.ok(traffic.ok >= 50, `${traffic.ok} exchanges`);
});
