// The XFCC seam filled with the security module's xfccAction and the connection's verified peer certificate.

import { xfccAction } from '../../../security/xfcc.js';
import type { XfccAction, XfccBuilder } from '../options.js';
import { peerCertificateOf } from './peer.js';

const REMOVE: XfccAction = Object.freeze({ action: 'remove' });

export interface XfccBuilderOptions {
  /** This sidecar's SPIFFE ID, XFCC's `By`, when the connection does not carry it (`tls.localIdentity`). */
  localPrincipal?: string;
}

/**
 * Envoy's `forward_client_cert_details` with Istio's inbound default SANITIZE_SET: the client's header is
 * replaced with this hop's element, `By=<our SPIFFE ID>;Hash=<sha256>;Subject="…";URI=<peer SPIFFE ID>`, built
 * from the certificate the handshake verified. Without a verified peer the header is dropped in every mode.
 */
export function xfccBuilder(opts: XfccBuilderOptions = {}): XfccBuilder {
  const byPrincipal = new Map<string, readonly string[]>();
  const localUriSans = (id: string | undefined): readonly string[] => {
    if (id === undefined) return [];
    let sans = byPrincipal.get(id);
    if (sans === undefined) {
      sans = Object.freeze([id]);
      byPrincipal.set(id, sans);
    }
    return sans;
  };
  return ({ connection, incoming, mode, details }) => {
    // Outbound listeners (SANITIZE) and plaintext connections: nothing to read, the header goes.
    if (mode === 'SANITIZE' || connection.tls === undefined) return REMOVE;
    return xfccAction(
      { mode, details, localUriSans: localUriSans(connection.tls.localIdentity ?? opts.localPrincipal) },
      { peer: peerCertificateOf(connection), incoming },
    );
  };
}
