// The peer's SPIFFE ID on a verified TLS connection, read once and cached on the socket.

import type { TLSSocket } from 'node:tls';
import { spiffeIdOfSubjectAltName } from '../../shared/spiffe.js';

const cache = new WeakMap<TLSSocket, string | null>();

/**
 * Records the identity for a socket whose certificate Node no longer exposes: a client resuming a
 * TLS 1.3 session gets no peer certificate, but the session was verified when it was first made.
 */
export function rememberPeerIdentity(socket: TLSSocket, identity: string): void {
  cache.set(socket, identity);
}

/**
 * The peer's SPIFFE URI, or undefined when the connection is not verified (`authorized`), carries
 * no certificate, or the certificate does not hold exactly one SPIFFE ID.
 */
export function peerIdentity(socket: TLSSocket): string | undefined {
  const cached = cache.get(socket);
  if (cached !== undefined) return cached ?? undefined;
  if (!socket.authorized) return undefined;
  // Not getPeerX509Certificate(): on Node 20 a client socket's first call to it consumes the peer
  // certificate, and every later call (and getPeerCertificate) then finds none.
  const id = spiffeIdOfSubjectAltName(socket.getPeerCertificate()?.subjectaltname);
  // Before the handshake there is nothing to cache yet; after it, the answer never changes.
  if (id !== undefined || socket.getProtocol() !== null) cache.set(socket, id ?? null);
  return id;
}
