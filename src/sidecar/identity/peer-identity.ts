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
  const id = spiffeIdOfSubjectAltName(socket.getPeerX509Certificate?.()?.subjectAltName);
  // Before the handshake there is nothing to cache yet; after it, the answer never changes.
  if (id !== undefined || socket.getProtocol() !== null) cache.set(socket, id ?? null);
  return id;
}
