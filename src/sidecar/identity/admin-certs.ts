// Envoy's admin `/certs` JSON (envoy.admin.v3.Certificates) for the sidecar's secrets.

import type { CertificateInfo } from './cert-info.js';
import type { WorkloadSecrets } from './secrets.js';

const DAY_MS = 86_400_000;

/** envoy.admin.v3.CertificateDetails in proto JSON with Envoy's field names (uint64 as a string). */
export interface EnvoyCertificateDetails {
  path: string;
  serial_number: string;
  subject_alt_names: ({ uri: string } | { dns: string } | { ip_address: string })[];
  days_until_expiration: string;
  valid_from: string;
  expiration_time: string;
}

export interface EnvoyCertificates {
  certificates: { ca_cert: EnvoyCertificateDetails[]; cert_chain: EnvoyCertificateDetails[] }[];
}

function timestamp(d: Date): string {
  // Envoy prints whole seconds: 2021-11-15T08:34:55Z.
  return `${d.toISOString().slice(0, 19)}Z`;
}

function details(c: CertificateInfo, now: number): EnvoyCertificateDetails {
  return {
    // SDS secrets are inline data to Envoy, which prints them as "<inline>".
    path: '<inline>',
    serial_number: c.serial,
    subject_alt_names: [
      ...c.uris.map((uri) => ({ uri })),
      ...c.dnsNames.map((dns) => ({ dns })),
      ...c.ipAddresses.map((ip_address) => ({ ip_address })),
    ],
    days_until_expiration: String(Math.max(0, Math.floor((c.notAfter.getTime() - now) / DAY_MS))),
    valid_from: timestamp(c.notBefore),
    expiration_time: timestamp(c.notAfter),
  };
}

/**
 * What Envoy's admin `/certs` returns for a sidecar with one mTLS context: every root of `ROOTCA`
 * under `ca_cert`, the `default` chain under `cert_chain`. Empty before the first certificate.
 */
export function envoyCertsJson(secrets: WorkloadSecrets | undefined, now: number): EnvoyCertificates {
  if (!secrets) return { certificates: [] };
  return {
    certificates: [
      {
        ca_cert: secrets.rootCa.roots.map((r) => details(r, now)),
        cert_chain: secrets.default.chain.map((c) => details(c, now)),
      },
    ],
  };
}
