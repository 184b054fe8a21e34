// The verified client certificate of a TLS socket, in the shape RBAC and XFCC read.

import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { subjectAltNameEntries } from '../../shared/spiffe.js';
import { peerIdentity } from '../identity/peer-identity.js';
import type { PeerCertificate } from './context.js';

/** RFC 2253 order is the reverse of the certificate's (`CN=leaf,O=org`), as Envoy prints subjects. */
function rfc2253(subject: string | undefined): string {
  // Node gives no subject at all for an empty one, which is what mesh workload certificates have.
  return (subject ?? '')
    .split('\n')
    .filter(Boolean)
    .reverse()
    .map((rdn) => rdn.replace(/([,+"\\<>;])/g, '\\$1'))
    .join(',');
}

/**
 * Undefined unless the socket is TLS, the handshake verified the client certificate (`authorized`) and a
 * certificate was presented: an unverified certificate must never count as an identity. A resumed TLS 1.3
 * session exposes no certificate; then the identity remembered at the first handshake is used.
 */
export function peerCertificateFromSocket(socket: TLSSocket): PeerCertificate | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert?.raw) {
    const id = peerIdentity(socket);
    return id ? { uriSans: [id], dnsSans: [], subject: '' } : undefined;
  }
  const sans = subjectAltNameEntries(cert.subjectaltname);
  return {
    uriSans: sans.filter((s) => s.type === 'URI').map((s) => s.value),
    dnsSans: sans.filter((s) => s.type === 'DNS').map((s) => s.value),
    subject: rfc2253(new X509Certificate(cert.raw).subject),
    sha256: cert.fingerprint256.replaceAll(':', '').toLowerCase(),
  };
}
