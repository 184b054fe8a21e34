// A plain description of a certificate (serial, names, validity) for secrets, admin output and the CLI.

import { X509Certificate } from 'node:crypto';
import { spiffeIdOfSubjectAltName, subjectAltNameEntries } from '../../shared/spiffe.js';

export interface CertificateInfo {
  pem: string;
  /** Lower-case hex, as Envoy's admin /certs prints it. */
  serial: string;
  /** RFC 2253-ish `O=x, CN=y`; empty for workload certificates. */
  subject: string;
  issuer: string;
  spiffeId: string | undefined;
  uris: string[];
  dnsNames: string[];
  ipAddresses: string[];
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  /** SHA-256, lower-case hex without separators. */
  fingerprint: string;
}

function oneLine(name: string | undefined): string {
  return (name ?? '').split('\n').filter(Boolean).join(', ');
}

/** Describes one PEM certificate (the first block when several are given). */
export function describeCertificate(pem: string): CertificateInfo {
  const cert = new X509Certificate(pem);
  const sans = subjectAltNameEntries(cert.subjectAltName);
  return {
    pem: `${cert.toString().trim()}\n`,
    serial: cert.serialNumber.toLowerCase(),
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    spiffeId: spiffeIdOfSubjectAltName(cert.subjectAltName),
    uris: sans.filter((s) => s.type === 'URI').map((s) => s.value),
    dnsNames: sans.filter((s) => s.type === 'DNS').map((s) => s.value),
    ipAddresses: sans.filter((s) => s.type === 'IP Address').map((s) => s.value),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    isCa: cert.ca,
    fingerprint: cert.fingerprint256.replaceAll(':', '').toLowerCase(),
  };
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM text, described. */
export function describeCertificates(text: string): CertificateInfo[] {
  return [...text.matchAll(CERT_BLOCK)].map((m) => describeCertificate(m[0]));
}
