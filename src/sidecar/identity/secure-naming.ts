// Secure naming: the server's SPIFFE ID must be one allowed to serve the destination; DNS names are never checked.

import type { PeerCertificate } from 'node:tls';
import { TrellisError } from '../../shared/errors.js';
import { normalizeSpiffeId, spiffeIdOfSubjectAltName } from '../../shared/spiffe.js';

/** Raised through the TLS socket when the server is not one of the allowed identities. */
export class SecureNamingError extends TrellisError {
  readonly peerIdentity: string | undefined;

  constructor(message: string, peerIdentity: string | undefined) {
    super('SECURE_NAMING', message);
    this.name = 'SecureNamingError';
    this.peerIdentity = peerIdentity;
  }
}

/**
 * A `checkServerIdentity` that accepts exactly the SPIFFE IDs in `allowed` (URIs or Istio principals).
 * An empty list refuses every server: a caller that knows no identity must not get "anything goes".
 */
export function secureNamingCheck(
  allowed: readonly string[],
  destination?: string,
): (host: string, cert: PeerCertificate) => Error | undefined {
  const ids = new Set<string>();
  for (const a of allowed) {
    const id = normalizeSpiffeId(a);
    if (!id) throw new TrellisError('SECURE_NAMING_CONFIG', `"${a}" is not a SPIFFE ID or Istio principal`);
    ids.add(id);
  }
  const target = destination ?? 'this destination';
  return (_host, cert) => {
    const peer = spiffeIdOfSubjectAltName(cert?.subjectaltname);
    if (peer && ids.has(peer)) return undefined;
    const list = ids.size > 0 ? [...ids].join(', ') : '(none)';
    return new SecureNamingError(
      peer
        ? `server identity ${peer} is not allowed to serve ${target}; allowed: ${list}`
        : `server certificate of ${target} carries no single SPIFFE ID; allowed: ${list}`,
      peer,
    );
  };
}
