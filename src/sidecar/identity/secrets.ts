// The two secrets a sidecar holds (SDS names `default` and `ROOTCA`), built from a CA response and checked.

import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { TrellisError } from '../../shared/errors.js';
import { type CertificateInfo, describeCertificate, describeCertificates } from './cert-info.js';

/** SDS names, as Envoy's config refers to them (docs/xds-contract.md §7). */
export const DEFAULT_SECRET = 'default';
export const ROOTCA_SECRET = 'ROOTCA';

/** An immutable snapshot; a rotation replaces the whole object and bumps `version`. */
export interface WorkloadSecrets {
  version: number;
  spiffeId: string;
  /** `default`: the certificate chain (leaf first, no root) and its private key. */
  default: {
    certChainPem: string;
    privateKeyPem: string;
    leaf: CertificateInfo;
    chain: readonly CertificateInfo[];
  };
  /** `ROOTCA`: every trusted root. */
  rootCa: {
    pem: string;
    roots: readonly CertificateInfo[];
  };
}

function invalid(message: string): TrellisError {
  return new TrellisError('CA_RESPONSE_INVALID', message);
}

/**
 * Builds secrets from Istio's response layout (leaf, intermediates..., roots last) and refuses a
 * response that does not hold a certificate for `spiffeId` on our key, chaining to a returned root.
 */
export function secretsFromCaResponse(opts: {
  certChain: readonly string[];
  privateKeyPem: string;
  spiffeId: string;
  version: number;
}): WorkloadSecrets {
  const { certChain } = opts;
  if (certChain.length < 2) {
    throw invalid(
      `CA returned ${certChain.length} chain element(s); expected the certificate and the root(s)`,
    );
  }
  const chain = certChain.slice(0, -1).flatMap((pem) => describeCertificates(pem));
  const roots = describeCertificates(certChain.at(-1)!);
  if (chain.length === 0 || roots.length === 0) throw invalid('CA response holds no certificate or no root');
  const leaf = chain[0]!;
  if (leaf.spiffeId !== opts.spiffeId) {
    throw invalid(
      `CA issued a certificate for ${leaf.spiffeId ?? '(no SPIFFE ID)'}; expected ${opts.spiffeId}`,
    );
  }
  const leafKey = new X509Certificate(leaf.pem).publicKey.export({ type: 'spki', format: 'der' });
  const ourKey = createPublicKey(createPrivateKey(opts.privateKeyPem)).export({
    type: 'spki',
    format: 'der',
  });
  if (!leafKey.equals(ourKey)) throw invalid('CA issued a certificate for a different key than our CSR');
  const certs = chain.map((c) => new X509Certificate(c.pem));
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!certs[i]!.checkIssued(certs[i + 1]!) || !certs[i]!.verify(certs[i + 1]!.publicKey)) {
      throw invalid(`chain element ${i + 1} (serial ${chain[i]!.serial}) is not signed by the next one`);
    }
  }
  const top = certs.at(-1)!;
  const anchored = roots.some((r) => {
    const root = new X509Certificate(r.pem);
    return top.checkIssued(root) && top.verify(root.publicKey);
  });
  if (!anchored) throw invalid(`certificate chain (serial ${leaf.serial}) does not end at any returned root`);
  return {
    version: opts.version,
    spiffeId: opts.spiffeId,
    default: {
      certChainPem: chain.map((c) => c.pem).join(''),
      privateKeyPem: opts.privateKeyPem,
      leaf,
      chain,
    },
    rootCa: { pem: roots.map((r) => r.pem).join(''), roots },
  };
}

/** Secrets from PEM already at hand (files, tests, a restarted agent); the same checks apply. */
export function secretsFromPem(opts: {
  certChainPem: string;
  privateKeyPem: string;
  rootsPem: string;
  version?: number;
}): WorkloadSecrets {
  const leaf = describeCertificate(opts.certChainPem);
  if (!leaf.spiffeId) throw invalid(`certificate serial ${leaf.serial} carries no single SPIFFE ID`);
  return secretsFromCaResponse({
    certChain: [opts.certChainPem, opts.rootsPem],
    privateKeyPem: opts.privateKeyPem,
    spiffeId: leaf.spiffeId,
    version: opts.version ?? 1,
  });
}
