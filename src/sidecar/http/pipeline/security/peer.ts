// The verified client certificate of a downstream connection, in the shape RBAC, ext_authz and XFCC read.

import { TLSSocket } from 'node:tls';
import type { DownstreamConnection } from '../../../runtime/contracts.js';
import { type PeerCertificate, peerFromSpiffeId } from '../../../security/context.js';
import { peerCertificateFromSocket } from '../../../security/peer-certificate.js';

// Read once per connection: every request on it has the same peer, and parsing a certificate is not free.
const peers = new WeakMap<DownstreamConnection, PeerCertificate | null>();

/**
 * The certificate is read from the TLS socket itself, and only when the handshake verified it (`authorized`):
 * SANs, subject and hash for `authenticated` principals and XFCC. When the socket exposes no certificate (a
 * resumed TLS 1.3 session, a listener that hands over a wrapped stream) the SPIFFE ID the listener verified
 * (`tls.peerIdentity`) stands in. Plaintext connections have no peer.
 */
export function peerCertificateOf(conn: DownstreamConnection): PeerCertificate | undefined {
  const tls = conn.tls;
  if (tls === undefined) return undefined;
  const cached = peers.get(conn);
  if (cached !== undefined) return cached ?? undefined;
  const fromSocket = conn.socket instanceof TLSSocket ? peerCertificateFromSocket(conn.socket) : undefined;
  const peer =
    fromSocket ?? (tls.peerIdentity === undefined ? undefined : peerFromSpiffeId(tls.peerIdentity));
  peers.set(conn, peer ?? null);
  return peer;
}
