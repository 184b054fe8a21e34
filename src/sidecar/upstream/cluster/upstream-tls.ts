// TLS client options per cluster transport socket: mesh mTLS from the identity agent's secrets, or files.

import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { TrellisError } from '../../../shared/errors.js';
import { spiffeIdOfSubjectAltName, subjectAltNameEntries } from '../../../shared/spiffe.js';
import type { SanMatcher, UpstreamTls } from '../../config/model.js';
import type { SecretsSource } from '../../identity/identity-agent.js';

export interface UpstreamTlsProviderOptions {
  /** The workload's secrets (`default`, `ROOTCA`); undefined when the sidecar has no identity. */
  secrets?: SecretsSource;
  /** Reads certificate files for TLS origination (injected in tests). */
  readFile?: (path: string) => string;
}

/** Called after each verified handshake with the server's SPIFFE ID (undefined when it has none). */
export type PeerListener = (identity: string | undefined) => void;

const SAN_TYPE: Record<string, SanMatcher['type']> = {
  URI: 'URI',
  DNS: 'DNS',
  email: 'EMAIL',
  'IP Address': 'IP_ADDRESS',
};

/**
 * Builds `tls.connect` options for one upstream TLS context. Secure contexts are built once per context
 * and secrets version (parsing PEM on every connect would cost milliseconds); `version` bumps when the
 * workload secrets rotate, which tells the cluster manager to replace mesh pools.
 */
export class UpstreamTlsProvider {
  readonly #secrets: SecretsSource | undefined;
  readonly #readFile: (path: string) => string;
  readonly #contexts = new WeakMap<UpstreamTls, { version: number; ctx: tls.SecureContext }>();

  constructor(opts: UpstreamTlsProviderOptions = {}) {
    this.#secrets = opts.secrets;
    this.#readFile = opts.readFile ?? ((path) => readFileSync(path, 'utf8'));
  }

  /** The secrets version mesh contexts are built from (0 without an identity). */
  get version(): number {
    return this.#secrets?.current()?.version ?? 0;
  }

  /** True when the context uses the identity agent's secrets (Istio's auto mTLS). */
  static isMesh(t: UpstreamTls): boolean {
    return t.certificateSecret !== undefined || t.validationSecret !== undefined;
  }

  options(cluster: string, t: UpstreamTls, onPeer?: PeerListener): tls.ConnectionOptions {
    const check = serverIdentityCheck(cluster, t, onPeer);
    return {
      secureContext: this.#context(cluster, t),
      rejectUnauthorized: !t.insecureSkipVerify,
      checkServerIdentity: check,
      ALPNProtocols: [...t.alpn],
      ...(t.sni && !isIpLiteral(t.sni) ? { servername: t.sni } : {}),
    };
  }

  #context(cluster: string, t: UpstreamTls): tls.SecureContext {
    const mesh = UpstreamTlsProvider.isMesh(t);
    const version = mesh ? this.version : 0;
    const cached = this.#contexts.get(t);
    if (cached && cached.version === version) return cached.ctx;
    const secrets = mesh ? this.#secrets?.current() : undefined;
    if (mesh && !secrets) {
      throw new TrellisError(
        'UPSTREAM_NO_IDENTITY',
        `cluster "${cluster}" needs the workload certificate for mesh mTLS, but the sidecar has none ` +
          '(no `ca` in the bootstrap, or the CA has not answered yet)',
      );
    }
    const opts: tls.SecureContextOptions = { minVersion: tlsVersion(t.minimumProtocol) };
    opts.maxVersion = tlsVersion(t.maximumProtocol);
    if (t.certificateSecret && secrets) {
      opts.cert = secrets.default.certChainPem;
      opts.key = secrets.default.privateKeyPem;
    } else if (t.certificateFile) {
      opts.cert = this.#file(cluster, t.certificateFile.certChain);
      opts.key = this.#file(cluster, t.certificateFile.privateKey);
    }
    if (t.validationSecret && secrets) opts.ca = secrets.rootCa.pem;
    else if (t.trustedCaFile) opts.ca = this.#file(cluster, t.trustedCaFile);
    const ctx = tls.createSecureContext(opts);
    this.#contexts.set(t, { version, ctx });
    return ctx;
  }

  #file(cluster: string, path: string): string {
    try {
      return this.#readFile(path);
    } catch (e) {
      throw new TrellisError(
        'UPSTREAM_TLS_FILE',
        `cluster "${cluster}": cannot read TLS file ${path}: ${(e as Error).message}`,
      );
    }
  }
}

function tlsVersion(v: 'TLSv1_2' | 'TLSv1_3'): tls.SecureVersion {
  return v === 'TLSv1_3' ? 'TLSv1.3' : 'TLSv1.2';
}

function isIpLiteral(s: string): boolean {
  return /^[\d.]+$/.test(s) || s.includes(':');
}

/**
 * Envoy's SAN check: with matchers, some SAN of the matcher's type must match one of them (secure naming
 * for mesh clusters, where the matchers are the SPIFFE IDs allowed to serve the destination); without
 * matchers the chain check alone decides, and no hostname check is made.
 */
export function serverIdentityCheck(
  cluster: string,
  t: Pick<UpstreamTls, 'subjectAltNames' | 'insecureSkipVerify'>,
  onPeer?: PeerListener,
): (host: string, cert: tls.PeerCertificate) => Error | undefined {
  const matchers = t.subjectAltNames;
  return (_host, cert) => {
    const peer = spiffeIdOfSubjectAltName(cert?.subjectaltname);
    if (matchers.length === 0 || t.insecureSkipVerify) {
      onPeer?.(peer);
      return undefined;
    }
    const entries = subjectAltNameEntries(cert?.subjectaltname);
    for (const m of matchers) {
      for (const e of entries) {
        const type = SAN_TYPE[e.type];
        if ((m.type === 'ANY' || m.type === type) && m.match.test(e.value)) {
          onPeer?.(peer);
          return undefined;
        }
      }
    }
    const allowed = matchers.map((m) => `${m.type === 'ANY' ? '' : `${m.type}:`}${m.match.value}`).join(', ');
    const seen = entries.map((e) => `${e.type}:${e.value}`).join(', ') || 'no subject alt names';
    return new TrellisError(
      'SECURE_NAMING',
      `server certificate (${seen}) is not allowed to serve cluster "${cluster}"; allowed: ${allowed}`,
    );
  };
}
