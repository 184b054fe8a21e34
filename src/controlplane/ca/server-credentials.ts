// grpc-js ServerCredentials for the control plane's mTLS port (15012): the CA's serving cert, optional client certs.

import type { SecureContextOptions } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';
import type { MeshCa } from './mesh-ca.js';

function contextOptions(ca: MeshCa): SecureContextOptions {
  const serving = ca.servingCertificate;
  return { cert: serving.certChainPem, key: serving.keyPem, ca: ca.trustBundle.pem, minVersion: 'TLSv1.2' };
}

/**
 * Pushes the CA's serving certificate and bundle to every server using these credentials, again after
 * each change (grpc-js then calls `setSecureContext`, so open connections stay up).
 */
class CaServerCredentials extends ServerCredentials {
  readonly #ca: MeshCa;
  #unsubscribe: (() => void) | undefined;

  constructor(ca: MeshCa) {
    // Request a client certificate but do not require one: tokens authenticate first issuance.
    super({ requestCert: true, rejectUnauthorized: false }, contextOptions(ca));
    this.#ca = ca;
  }

  override _addWatcher(watcher: Parameters<ServerCredentials['_addWatcher']>[0]): void {
    super._addWatcher(watcher);
    this.#unsubscribe ??= this.#ca.onChange(() => this.updateSecureContextOptions(contextOptions(this.#ca)));
  }

  override _removeWatcher(watcher: Parameters<ServerCredentials['_removeWatcher']>[0]): void {
    super._removeWatcher(watcher);
    if (this.getWatcherCount() === 0) {
      this.#unsubscribe?.();
      this.#unsubscribe = undefined;
    }
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

/**
 * Credentials for a grpc-js server carrying ADS and the CA: the server authenticates with the CA's
 * serving certificate (rotated in place); a client may present a certificate, which TLS then verifies
 * against the trust bundle. A call sees it through `call.getAuthContext().sslPeerCertificate` only
 * when it verified; clients without one still connect and authenticate with a token.
 */
export function caServerCredentials(ca: MeshCa): ServerCredentials {
  return new CaServerCredentials(ca);
}
