// The peer the security filters see: only a certificate the handshake verified, read from the TLS socket.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { peerCertificateOf } from '../../../src/sidecar/http/pipeline/security/peer.js';
import type { DownstreamConnection } from '../../../src/sidecar/runtime/contracts.js';
import { foreignCa, type KeyedCert, leafCertificate } from '../../security/identity/fixtures.js';

const SERVER = 'spiffe://cluster.local/ns/default/sa/httpbin';
const CLIENT = 'spiffe://cluster.local/ns/default/sa/sleep';

let caPem: string;
let server: KeyedCert;
let client: KeyedCert;
let rogue: KeyedCert;
let listener: tls.Server;
let port: number;
const accepted: tls.TLSSocket[] = [];

before(async () => {
  const ca = await foreignCa();
  caPem = ca.pem;
  server = await leafCertificate(ca, { spiffeId: SERVER });
  client = await leafCertificate(ca, { spiffeId: CLIENT });
  rogue = await leafCertificate(await foreignCa(), { spiffeId: CLIENT });
  // rejectUnauthorized: false lets a foreign certificate complete the handshake, unverified.
  listener = tls.createServer(
    { cert: server.certPem, key: server.keyPem, ca: caPem, requestCert: true, rejectUnauthorized: false },
    (socket) => {
      accepted.push(socket);
      socket.on('error', () => {});
    },
  );
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  port = (listener.address() as AddressInfo).port;
});

after(async () => {
  for (const s of accepted) s.destroy();
  listener.close();
  await once(listener, 'close');
});

/** Connects with `cert` and returns the server side of the connection, handshake done. */
async function serverSocketFor(cert: KeyedCert): Promise<tls.TLSSocket> {
  const n = accepted.length;
  const c = tls.connect({
    host: '127.0.0.1',
    port,
    ca: caPem,
    cert: cert.certPem,
    key: cert.keyPem,
    checkServerIdentity: () => undefined,
  });
  c.on('error', () => {});
  await once(listener, 'secureConnection');
  assert.equal(accepted.length, n + 1);
  return accepted[n]!;
}

function downstream(socket: tls.TLSSocket, peerIdentity?: string): DownstreamConnection {
  return {
    socket,
    direction: 'inbound',
    listenerName: 'virtualInbound',
    filterChainName: '8000-mtls-http',
    destination: { address: '127.0.0.1', port: 8000 },
    source: { address: '127.0.0.1', port: 1 },
    tls: { peerIdentity },
    acceptedAt: 0,
  };
}

test('a verified certificate: its URI SAN, empty subject and SHA-256, read once per connection', async () => {
  const socket = await serverSocketFor(client);
  const conn = downstream(socket, CLIENT);
  const peer = peerCertificateOf(conn);
  assert.deepEqual(peer, {
    uriSans: [CLIENT],
    dnsSans: [],
    subject: '',
    sha256: new X509Certificate(client.certPem).fingerprint256.replaceAll(':', '').toLowerCase(),
  });
  assert.equal(peerCertificateOf(conn), peer, 'the same object for every request on the connection');
});

test('a certificate the handshake did not verify is no peer at all', async () => {
  const socket = await serverSocketFor(rogue);
  assert.equal(socket.authorized, false);
  assert.equal(peerCertificateOf(downstream(socket)), undefined);
});
