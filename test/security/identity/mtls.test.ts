// The data-path TLS contexts refuse every peer that is not a currently valid mesh workload, both directions.

import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import type { Signer } from '../../../src/controlplane/ca/certificates.js';
import { type IdentityAgent, MeshTls, peerIdentity } from '../../../src/sidecar/identity/index.js';
import {
  agentFor,
  exchange,
  foreignCa,
  identityEcho,
  type KeyedCert,
  leafCertificate,
  meshSigner,
  type RunningCa,
  startCa,
} from './fixtures.js';

const REVIEWS = 'spiffe://cluster.local/ns/default/sa/reviews';
const PRODUCTPAGE = 'spiffe://cluster.local/ns/default/sa/productpage';
const RATINGS = 'spiffe://cluster.local/ns/default/sa/ratings';
const HOUR = 3_600_000;

let running: RunningCa;
let reviews: IdentityAgent;
let productpage: IdentityAgent;
let serverTls: MeshTls;
let clientTls: MeshTls;
let meshServer: tls.Server;
let meshPort: number;
let mesh: Signer;

before(async () => {
  running = await startCa();
  reviews = await agentFor(running, 'reviews');
  productpage = await agentFor(running, 'productpage');
  await Promise.all([reviews.start(), productpage.start()]);
  serverTls = new MeshTls(reviews);
  clientTls = new MeshTls(productpage);
  meshServer = serverTls.createServer({});
  meshPort = await identityEcho(meshServer);
  mesh = await meshSigner(running.stateDir);
});

after(async () => {
  meshServer.close();
  reviews.stop();
  productpage.stop();
  serverTls.close();
  clientTls.close();
  await running.close();
});

function connectMesh(port: number, allowed: string[] = [REVIEWS]) {
  return clientTls.connect({ host: '127.0.0.1', port, allowedIdentities: allowed, alpnProtocols: ['istio'] });
}

/** A TLS client presenting `cert` (or none), trusting the mesh bundle. */
function connectAs(cert: KeyedCert | undefined, extra: tls.ConnectionOptions = {}) {
  return tls.connect({
    host: '127.0.0.1',
    port: meshPort,
    ca: running.ca.trustBundle.pem,
    checkServerIdentity: () => undefined,
    ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}),
    ...extra,
  });
}

/** A TLS server presenting `cert`, answering pong to anyone. */
async function rogueServer(cert: KeyedCert): Promise<{ port: number; close(): void }> {
  const server = tls.createServer({ cert: cert.certPem, key: cert.keyPem }, (s) => {
    s.on('error', () => {});
    s.once('data', () => s.end('pong from rogue'));
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

test('two mesh workloads talk over TLS 1.3 and each sees the other SPIFFE ID', async () => {
  const socket = connectMesh(meshPort);
  const result = await exchange(socket);
  assert.equal(result.error, undefined);
  assert.equal(result.data, `pong ${PRODUCTPAGE}`);
  assert.equal(peerIdentity(socket), REVIEWS);
  assert.equal(result.protocol, 'TLSv1.3');
  assert.equal(result.alpn, 'istio');
});

test('the server refuses plaintext', async () => {
  const result = await exchange(
    net.connect(meshPort, '127.0.0.1'),
    'GET / HTTP/1.1\r\nHost: reviews\r\n\r\n',
  );
  assert.equal(result.data.includes('pong'), false);
  assert.equal(result.error?.message === 'timed out', false, 'the server closes at once');
});

test('the server refuses a client without a certificate', async () => {
  const result = await exchange(connectAs(undefined));
  assert.equal(result.data, '');
  assert.ok(result.error, 'the client sees an error');
});

test('the server refuses client certificates from a foreign CA, expired, or not yet valid', async () => {
  const rogue = await foreignCa();
  const now = Date.now();
  const cases: [string, KeyedCert][] = [
    ['foreign CA', await leafCertificate(rogue, { spiffeId: PRODUCTPAGE })],
    [
      'expired',
      await leafCertificate(mesh, {
        spiffeId: PRODUCTPAGE,
        notBefore: new Date(now - 2 * HOUR),
        notAfter: new Date(now - HOUR),
      }),
    ],
    [
      'not yet valid',
      await leafCertificate(mesh, {
        spiffeId: PRODUCTPAGE,
        notBefore: new Date(now + HOUR),
        notAfter: new Date(now + 2 * HOUR),
      }),
    ],
  ];
  for (const [name, cert] of cases) {
    const result = await exchange(connectAs(cert));
    assert.equal(result.data, '', `${name}: the server must not answer`);
  }
  // Control: the same path with a valid mesh certificate gets an answer, so the refusals above mean something.
  const valid = await exchange(connectAs(await leafCertificate(mesh, { spiffeId: PRODUCTPAGE })));
  assert.equal(valid.data, `pong ${PRODUCTPAGE}`);
});

test('the server refuses TLS 1.2', async () => {
  const cert = await leafCertificate(mesh, { spiffeId: PRODUCTPAGE });
  const result = await exchange(connectAs(cert, { maxVersion: 'TLSv1.2' }));
  assert.equal(result.data, '');
  assert.ok(result.error);
});

test('the client refuses servers with a foreign-CA, expired, not-yet-valid or DNS-only certificate', async () => {
  const rogue = await foreignCa();
  const now = Date.now();
  const cases: [string, KeyedCert, RegExp][] = [
    [
      'foreign CA',
      await leafCertificate(rogue, { spiffeId: REVIEWS }),
      /self.signed|unable to verify|certificate/i,
    ],
    [
      'expired',
      await leafCertificate(mesh, {
        spiffeId: REVIEWS,
        notBefore: new Date(now - 2 * HOUR),
        notAfter: new Date(now - HOUR),
      }),
      /expired/i,
    ],
    [
      'not yet valid',
      await leafCertificate(mesh, {
        spiffeId: REVIEWS,
        notBefore: new Date(now + HOUR),
        notAfter: new Date(now + 2 * HOUR),
      }),
      /not yet valid/i,
    ],
    [
      // The control plane's serving cert: mesh-signed, valid, but it names DNS hosts, not a workload.
      'DNS-only SAN',
      { certPem: running.ca.servingCertificate.certChainPem, keyPem: running.ca.servingCertificate.keyPem },
      /carries no single SPIFFE ID/,
    ],
  ];
  for (const [name, cert, message] of cases) {
    const server = await rogueServer(cert);
    const result = await exchange(connectMesh(server.port));
    server.close();
    assert.equal(result.data, '', `${name}: no data may flow`);
    assert.match(result.error?.message ?? '', message, name);
  }
});

test('secure naming: the allowed identity is accepted, another valid mesh identity is refused', async () => {
  const ratings = await leafCertificate(mesh, { spiffeId: RATINGS });
  const server = await rogueServer(ratings);
  try {
    const refused = await exchange(connectMesh(server.port, [REVIEWS]));
    assert.equal(refused.data, '');
    assert.match(
      refused.error?.message ?? '',
      /server identity spiffe:\/\/cluster.local\/ns\/default\/sa\/ratings is not allowed/,
    );
    // Istio principals are accepted as well as URIs; then the same server passes.
    const allowed = await exchange(connectMesh(server.port, ['cluster.local/ns/default/sa/ratings']));
    assert.equal(allowed.data, 'pong from rogue');
    const none = await exchange(connectMesh(server.port, []));
    assert.equal(none.data, '', 'an empty allow list refuses everyone');
  } finally {
    server.close();
  }
});

test('sessions are resumed, and both sides still know the peer identity', async () => {
  const key = { sessionKey: `resume-${Date.now()}` };
  let reused = 0;
  for (let i = 0; i < 3; i++) {
    const socket = clientTls.connect({
      host: '127.0.0.1',
      port: meshPort,
      allowedIdentities: [REVIEWS],
      ...key,
    });
    const result = await exchange(socket);
    assert.equal(result.data, `pong ${PRODUCTPAGE}`, `connection ${i}`);
    assert.equal(peerIdentity(socket), REVIEWS, `connection ${i}`);
    if (result.reused) reused++;
  }
  assert.ok(reused >= 1, `expected resumed sessions, got ${reused} of 3`);
});

test('a session made for one allowed identity is never reused to skip secure naming for another', async () => {
  const key = { sessionKey: undefined };
  // First connection under REVIEWS caches a session for that allow list only.
  await exchange(
    clientTls.connect({ host: '127.0.0.1', port: meshPort, allowedIdentities: [REVIEWS], ...key }),
  );
  const other = clientTls.connect({ host: '127.0.0.1', port: meshPort, allowedIdentities: [RATINGS] });
  const result = await exchange(other);
  assert.equal(result.data, '');
  assert.match(result.error?.message ?? '', /not allowed/);
});

test('sockets accepted elsewhere and injected into the mesh server get the same verification', async () => {
  const injected = serverTls.createServer({});
  injected.on('secureConnection', (socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end(`pong ${peerIdentity(socket) ?? '(none)'}`));
  });
  injected.on('tlsClientError', () => {});
  // A plain TCP listener, as the sidecar's capture listener is: it hands each socket to the TLS server.
  const raw = net.createServer((socket) => injected.emit('connection', socket));
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  const port = (raw.address() as AddressInfo).port;
  try {
    const mesh = await exchange(connectMesh(port));
    assert.equal(mesh.data, `pong ${PRODUCTPAGE}`);
    const rogue = await leafCertificate(await foreignCa(), { spiffeId: PRODUCTPAGE });
    const foreign = await exchange(
      tls.connect({
        host: '127.0.0.1',
        port,
        ca: running.ca.trustBundle.pem,
        cert: rogue.certPem,
        key: rogue.keyPem,
        checkServerIdentity: () => undefined,
      }),
    );
    assert.equal(foreign.data, '', 'a foreign client certificate is refused on injected sockets too');
  } finally {
    raw.close();
    injected.close();
  }
});
