// The identity agent's schedule and resilience: half-life renewal with jitter, backoff, serving through outages.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CertificateService, MeshCa } from '../../../src/controlplane/ca/index.js';
import { ManualClock } from '../../../src/shared/clock.js';
import {
  envoyCertsJson,
  IdentityAgent,
  MeshTls,
  type WorkloadSecrets,
} from '../../../src/sidecar/identity/index.js';
import {
  agentFor,
  exchange,
  identityEcho,
  inProcessCaClient,
  type RunningCa,
  startCa,
  tempDir,
  tokenFor,
  waitFor,
} from './fixtures.js';

const HOUR = 3_600_000;
const REVIEWS = 'spiffe://cluster.local/ns/default/sa/reviews';

function next(agent: IdentityAgent): Promise<WorkloadSecrets> {
  return new Promise((resolve) => {
    const off = agent.subscribe((s) => {
      off();
      resolve(s);
    });
  });
}

async function manualSetup(random: () => number, failNext = 0) {
  const clock = new ManualClock(Date.now());
  const dir = await tempDir('trellis-ca-');
  const ca = await MeshCa.open({ stateDir: dir.path, clock });
  const service = new CertificateService({ ca, clock });
  const client = inProcessCaClient(service, { failNext });
  const agent = new IdentityAgent({
    identity: { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'reviews' },
    ca: client,
    caRootsPem: ca.trustBundle.pem,
    // A fresh token per request, as a rotated projected service-account token would be.
    token: () => tokenFor(ca, 'reviews'),
    clock,
    random,
    retry: { baseMs: 1000, maxMs: 8000 },
  });
  after(async () => {
    agent.stop();
    ca.close();
    await dir.remove();
  });
  return { clock, ca, client, agent };
}

test('renewal comes at half-life, shifted by the jitter, and brings a new serial', async () => {
  for (const [random, fraction] of [
    [0.5, 0.5],
    [0, 0.49],
    [0.999999, 0.51],
  ] as const) {
    const { clock, agent } = await manualSetup(() => random);
    const first = await agent.start();
    const born = first.default.leaf.notBefore.getTime();
    const lifetime = first.default.leaf.notAfter.getTime() - born;
    const due = born + lifetime * fraction;
    assert.ok(
      Math.abs(agent.status().nextAttemptAt!.getTime() - due) < 1000,
      `random ${random}: renewal due at ${fraction}`,
    );
    clock.advance(due - clock.now() - 1000);
    assert.equal(agent.current()!.version, 1, 'nothing happens before the due time');
    const renewed = next(agent);
    clock.advance(2000);
    const second = await renewed;
    assert.equal(second.version, 2);
    assert.notEqual(second.default.leaf.serial, first.default.leaf.serial);
  }
});

test('a failing CA: the current certificate keeps serving, retries back off, then the agent recovers', async () => {
  const { clock, agent, client } = await manualSetup(() => 0.999999);
  const first = await agent.start();
  const lifetime = first.default.leaf.notAfter.getTime() - first.default.leaf.notBefore.getTime();
  client.failNext = 4;
  clock.advance(agent.status().nextAttemptAt!.getTime() - clock.now());
  await waitFor(() => agent.status().consecutiveFailures === 1, 'the first failure');
  const delays: number[] = [];
  for (let failure = 2; failure <= 4; failure++) {
    const due = agent.status().nextAttemptAt!.getTime() - clock.now();
    delays.push(due);
    clock.advance(due);
    await waitFor(() => agent.status().consecutiveFailures === failure, `failure ${failure}`);
    assert.equal(agent.current(), first, 'still serving the first certificate');
  }
  // Full jitter with random≈1: each delay close to the doubling ceiling 1s, 2s, 4s (capped at 8s).
  assert.deepEqual(
    delays.map((d) => Math.round(d / 1000)),
    [1, 2, 4],
  );
  assert.match(agent.status().lastError!, /simulated network failure/);
  assert.ok(
    clock.now() < first.default.leaf.notAfter.getTime() - lifetime / 4,
    'retrying long before expiry',
  );
  const recovered = next(agent);
  clock.advance(agent.status().nextAttemptAt!.getTime() - clock.now());
  const second = await recovered;
  assert.equal(agent.status().consecutiveFailures, 0);
  assert.equal(client.calls, 1 + 4 + 1);
  assert.notEqual(second.default.leaf.serial, first.default.leaf.serial);
});

test('the agent keeps serving mTLS while the CA is down, and renews when it is back', {
  timeout: 60_000,
}, async () => {
  const dir = await tempDir('trellis-ca-');
  after(() => dir.remove());
  const ca = await MeshCa.open({ stateDir: dir.path });
  after(() => ca.close());
  let running: RunningCa = await startCa({ ca });
  const port = Number(running.address.split(':')[1]);
  const reviews = await agentFor(running, 'reviews', {
    requestedTtlMs: 6000,
    retry: { baseMs: 50, maxMs: 200 },
  });
  const productpage = await agentFor(running, 'productpage');
  after(() => {
    reviews.stop();
    productpage.stop();
  });
  const first = await reviews.start();
  await productpage.start();

  await running.close();
  await reviews.renewNow().then(
    () => assert.fail('the CA is down; renewal cannot succeed'),
    (e: Error) => assert.match(e.message, /unreachable/),
  );
  await waitFor(() => reviews.status().consecutiveFailures >= 3, 'repeated failed renewals');
  assert.equal(reviews.current(), first, 'the current certificate stays in place');

  const serverTls = new MeshTls(reviews);
  const server = serverTls.createServer({});
  const echoPort = await identityEcho(server);
  const clientTls = new MeshTls(productpage);
  const during = await exchange(
    clientTls.connect({ host: '127.0.0.1', port: echoPort, allowedIdentities: [REVIEWS] }),
  );
  assert.equal(
    during.data,
    'pong spiffe://cluster.local/ns/default/sa/productpage',
    'mTLS works during the outage',
  );

  const renewed = next(reviews);
  running = await startCa({ ca, port });
  after(() => running.close());
  const second = await renewed;
  assert.notEqual(second.default.leaf.serial, first.default.leaf.serial);
  assert.equal(reviews.status().consecutiveFailures, 0);
  const afterwards = await exchange(
    clientTls.connect({ host: '127.0.0.1', port: echoPort, allowedIdentities: [REVIEWS] }),
  );
  assert.equal(afterwards.data, 'pong spiffe://cluster.local/ns/default/sa/productpage');
  server.close();
  serverTls.close();
  clientTls.close();
});

test('a renewal authenticates with the current certificate when the token has expired', async () => {
  const clock = new ManualClock(Date.now());
  const dir = await tempDir('trellis-ca-');
  const ca = await MeshCa.open({ stateDir: dir.path, clock });
  const running = await startCa({ ca });
  after(async () => {
    await running.close();
    ca.close();
    await dir.remove();
  });
  const token = await ca.tokenIssuer.issue({
    namespace: 'default',
    serviceAccount: 'reviews',
    podName: 'r',
    podUid: 'u',
    ttlMs: 60_000,
  });
  const agent = await agentFor(running, 'reviews', { token: () => token });
  after(() => agent.stop());
  const first = await agent.start();
  clock.advance(2 * 60_000);
  const second = await agent.renewNow();
  assert.notEqual(second.default.leaf.serial, first.default.leaf.serial);
  const refusedTokens = running.service.metrics.snapshot().refused.TOKEN_EXPIRED;
  assert.equal(
    refusedTokens,
    0,
    'a valid client certificate is enough; the stale token is not held against it',
  );
});

test('admin /certs: Envoy JSON with the roots under ca_cert and the chain under cert_chain', async () => {
  const { agent } = await manualSetup(() => 0.5);
  const s = await agent.start();
  const now = s.default.leaf.notBefore.getTime() + HOUR;
  const json = envoyCertsJson(s, now);
  assert.equal(json.certificates.length, 1);
  const [entry] = json.certificates;
  assert.equal(entry!.ca_cert.length, 1);
  assert.equal(entry!.ca_cert[0]!.days_until_expiration, '3649');
  assert.deepEqual(entry!.cert_chain[0], {
    path: '<inline>',
    serial_number: s.default.leaf.serial,
    subject_alt_names: [{ uri: REVIEWS }],
    days_until_expiration: '0',
    valid_from: `${s.default.leaf.notBefore.toISOString().slice(0, 19)}Z`,
    expiration_time: `${s.default.leaf.notAfter.toISOString().slice(0, 19)}Z`,
  });
  assert.deepEqual(envoyCertsJson(undefined, now), { certificates: [] });
});
