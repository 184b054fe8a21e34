// The workload's key (ECDSA P-256, never leaves the sidecar) and its CSR carrying only the SPIFFE URI SAN.

import { createPrivateKey, webcrypto } from 'node:crypto';
import { x509 } from './x509.js';

const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ES256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface KeyAndCsr {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  csrPem: string;
}

/** A fresh key and a CSR for `spiffeId`: empty subject, exactly one URI SAN. */
export async function createWorkloadCsr(spiffeId: string): Promise<KeyAndCsr> {
  const keys = (await webcrypto.subtle.generateKey(P256, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys: keys as never,
    signingAlgorithm: ES256,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true)],
  });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const privateKeyPem = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({
    format: 'pem',
    type: 'pkcs8',
  }) as string;
  return { privateKeyPem, csrPem: csr.toString('pem') };
}
