// The control plane's TLS serving certificate, so that sidecars can verify whom they send CSRs and ADS to.

import { isIP } from 'node:net';
import { issueServingCertificate } from './certificates.js';
import { generateP256, privateKeyToPem } from './keys.js';
import { joinPem } from './pem.js';
import type { SigningMaterial } from './signing-material.js';

export const DEFAULT_SERVING_TTL_MS = 30 * 86_400_000;
/** DNS names sidecars may dial the control plane by (Istio's istiod service name first). */
export const SERVING_DNS_NAMES = ['istiod.istio-system.svc', 'trellis-controlplane', 'localhost'] as const;
const SERVING_IPS = ['127.0.0.1'] as const;

export interface ServingCertificate {
  /** The serving cert followed by intermediates (no root). */
  certChainPem: string;
  keyPem: string;
  serial: string;
  notAfter: Date;
}

/** A fresh key and serving certificate for the standard names plus `addresses` (IPs or DNS names). */
export async function issueServing(opts: {
  material: SigningMaterial;
  trustDomain: string;
  addresses: readonly string[];
  ttlMs: number;
  now: number;
}): Promise<ServingCertificate> {
  const { material, now } = opts;
  const keys = await generateP256();
  const unique = [...new Set([...SERVING_DNS_NAMES, ...SERVING_IPS, ...opts.addresses])];
  const cert = await issueServingCertificate(material.signer, {
    publicKey: keys.publicKey,
    trustDomain: opts.trustDomain,
    dnsNames: unique.filter((a) => isIP(a) === 0),
    ipAddresses: unique.filter((a) => isIP(a) !== 0),
    validity: {
      notBefore: new Date(Math.max(now - 60_000, material.notBefore.getTime())),
      notAfter: new Date(Math.min(now + opts.ttlMs, material.notAfter.getTime())),
    },
  });
  return {
    certChainPem: joinPem([cert.toString('pem'), ...material.intermediates]),
    keyPem: await privateKeyToPem(keys.privateKey),
    serial: cert.serialNumber.toLowerCase(),
    notAfter: cert.notAfter,
  };
}
