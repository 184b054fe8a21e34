// Certificates with a lifetime of seconds rotate under steady traffic with zero failures and a new serial each time.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type IdentityAgent, MeshTls, type WorkloadSecrets } from '../../../src/sidecar/identity/index.js';
import { agentFor, lineEcho, longLived, type RunningCa, startCa, startTraffic } from './fixtures.js';

const REVIEWS = 'spiffe://cluster.local/ns/default/sa/reviews';
const PRODUCTPAGE = 'spiffe://cluster.local/ns/default/sa/productpage';
/** Short enough for three rotations in a few seconds; long enough for a loaded 2-core machine. */
const TTL_MS = 4000;
const ROTATIONS = 3;

let running: RunningCa;
let reviews: IdentityAgent;
let productpage: IdentityAgent;

before(async () => {
  running = await startCa();
  reviews = await agentFor(running, 'reviews', { requestedTtlMs: TTL_MS });
  productpage = await agentFor(running, 'productpage', { requestedTtlMs: TTL_MS });
});

after(async () => {
  reviews.stop();
  productpage.stop();
  await running.close();
});

/** Resolves once `agent` has installed `count` certificates after the first, recording every one. */
function rotations(agent: IdentityAgent, count: number, seen: WorkloadSecrets[]): Promise<void> {
  return new Promise((resolve) => {
    agent.subscribe((s) => {
      seen.push(s);
      if (seen.length === count + 1) resolve();
    });
  });
}

test(`${ROTATIONS} rotations of ${TTL_MS / 1000}s certificates under traffic: zero failures, new serial every time`, {
  timeout: 60_000,
}, async () => {
  const serverSeen: WorkloadSecrets[] = [];
  const clientSeen: WorkloadSecrets[] = [];
  const serverRotated = rotations(reviews, ROTATIONS, serverSeen);
  const clientRotated = rotations(productpage, ROTATIONS, clientSeen);
  await Promise.all([reviews.start(), productpage.start()]);
  const serverTls = new MeshTls(reviews);
  const clientTls = new MeshTls(productpage);
  const server = serverTls.createServer({});
  const port = await lineEcho(server);

  const clientSerialsAtServer = new Set<string>();
  const serverSerialsAtClient = new Set<string>();
  const connect = () => clientTls.connect({ host: '127.0.0.1', port, allowedIdentities: [REVIEWS] });
  const traffic = startTraffic({
    connect,
    check: (reply) => {
      const [word, peer, serial] = reply.data.split(' ');
      if (word !== 'pong' || peer !== PRODUCTPAGE)
        return `reply ${JSON.stringify(reply.data)} error ${reply.error?.message}`;
      if (reply.peer !== REVIEWS) return `client saw server identity ${reply.peer}`;
      if (serial && serial !== '-') clientSerialsAtServer.add(serial);
      if (reply.peerSerial) serverSerialsAtClient.add(reply.peerSerial);
      return undefined;
    },
  });
  const steady = longLived({ socket: connect() });

  await Promise.all([serverRotated, clientRotated]);
  await traffic.more(20);
  await traffic.stop();
  const repliesBefore = steady.replies;
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(steady.replies > repliesBefore, 'the long-lived connection still answers after every rotation');
  await steady.stop();
  server.close();
  serverTls.close();
  clientTls.close();

  assert.deepEqual(traffic.failures, [], 'no request failed');
  assert.deepEqual(steady.problems, [], 'the long-lived connection was never dropped');
  assert.ok(traffic.ok > 50, `enough traffic to matter: ${traffic.ok} exchanges`);
  for (const [name, seen] of [
    ['reviews', serverSeen],
    ['productpage', clientSeen],
  ] as const) {
    const serials = seen.map((s) => s.default.leaf.serial);
    assert.equal(
      new Set(serials).size,
      serials.length,
      `${name}: every rotation brought a new serial (${serials.join(', ')})`,
    );
    for (let i = 1; i < seen.length; i++) {
      assert.ok(
        seen[i]!.default.leaf.notAfter > seen[i - 1]!.default.leaf.notAfter,
        `${name}: rotation ${i} extends validity`,
      );
    }
  }
  // The peers really used the rotated certificates, not just the agents' memory.
  const clientSerials = new Set(clientSeen.map((s) => s.default.leaf.serial));
  const serverSerials = new Set(serverSeen.map((s) => s.default.leaf.serial));
  assert.ok(
    clientSerialsAtServer.size >= ROTATIONS,
    `server saw ${clientSerialsAtServer.size} client serials`,
  );
  assert.ok(
    serverSerialsAtClient.size >= ROTATIONS,
    `client saw ${serverSerialsAtClient.size} server serials`,
  );
  for (const s of clientSerialsAtServer) assert.ok(clientSerials.has(s), `serial ${s} came from the agent`);
  for (const s of serverSerialsAtClient) assert.ok(serverSerials.has(s), `serial ${s} came from the agent`);
});

test('renewal happens near half-life, not at expiry', () => {
  const status = reviews.status();
  const current = reviews.current()!;
  const lifetime = current.default.leaf.notAfter.getTime() - current.default.leaf.notBefore.getTime();
  const renewAt = status.nextAttemptAt!.getTime() - current.default.leaf.notBefore.getTime();
  assert.ok(
    renewAt / lifetime > 0.45 && renewAt / lifetime < 0.55,
    `renewal scheduled at ${renewAt / lifetime} of the lifetime`,
  );
});
