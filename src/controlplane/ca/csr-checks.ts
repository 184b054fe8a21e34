// What a workload's CSR must be before the CA signs it: well-formed, self-signed, a strong key, one URI SAN.

import { createPublicKey } from 'node:crypto';
import { CertificateRefused } from './refusals.js';
import { x509 } from './x509.js';

const MAX_CSR_LENGTH = 32 * 1024;
const SAN_OID = '2.5.29.17';
const CSR_BLOCK = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----/g;

/** The part of a checked CSR the CA uses: only the key. Subject and requested extensions are ignored. */
export interface CheckedCsr {
  publicKey: x509.PublicKey;
  /** `ECDSA P-256` or `RSA 2048`, for logs. */
  keyDescription: string;
}

function parse(pem: string): x509.Pkcs10CertificateRequest {
  if (typeof pem !== 'string' || pem.length === 0) {
    throw new CertificateRefused('CSR_MALFORMED', 'request carries no CSR');
  }
  if (pem.length > MAX_CSR_LENGTH) {
    throw new CertificateRefused(
      'CSR_MALFORMED',
      `CSR is ${pem.length} bytes; the limit is ${MAX_CSR_LENGTH}`,
    );
  }
  const blocks = pem.match(CSR_BLOCK)?.length ?? 0;
  if (blocks !== 1) {
    throw new CertificateRefused(
      'CSR_MALFORMED',
      `expected one PEM CERTIFICATE REQUEST block, found ${blocks}`,
    );
  }
  try {
    return new x509.Pkcs10CertificateRequest(pem);
  } catch (e) {
    throw new CertificateRefused('CSR_MALFORMED', `CSR cannot be parsed: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** ECDSA P-256 or RSA of at least 2048 bits, as Istio's CA accepts; anything else is refused. */
function checkKey(csr: x509.Pkcs10CertificateRequest): string {
  let key: ReturnType<typeof createPublicKey>;
  try {
    key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  } catch (e) {
    throw new CertificateRefused(
      'CSR_WEAK_KEY',
      `CSR public key is not a supported key: ${(e as Error).message}`,
    );
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return 'ECDSA P-256';
    throw new CertificateRefused(
      'CSR_WEAK_KEY',
      `CSR key is ECDSA on curve ${details.namedCurve ?? '(unknown)'}; the CA accepts ECDSA P-256 or RSA >= 2048 bits`,
    );
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits >= 2048) return `RSA ${bits}`;
    throw new CertificateRefused(
      'CSR_WEAK_KEY',
      `CSR key is RSA ${bits} bits; the CA accepts RSA >= 2048 bits or ECDSA P-256`,
    );
  }
  throw new CertificateRefused(
    'CSR_WEAK_KEY',
    `CSR key type ${key.asymmetricKeyType} is not accepted; use ECDSA P-256 or RSA >= 2048 bits`,
  );
}

async function checkSignature(csr: x509.Pkcs10CertificateRequest): Promise<void> {
  let ok = false;
  try {
    ok = await csr.verify();
  } catch (e) {
    throw new CertificateRefused(
      'CSR_BAD_SIGNATURE',
      `CSR signature cannot be checked: ${(e as Error).message}`,
    );
  }
  if (!ok) {
    throw new CertificateRefused(
      'CSR_BAD_SIGNATURE',
      'CSR signature does not verify with its own public key (tampered, or signed by another key)',
    );
  }
}

function sanNames(csr: x509.Pkcs10CertificateRequest): { type: string; value: string }[] {
  let extensions: x509.Extension[];
  try {
    extensions = csr.getExtensions(SAN_OID);
  } catch (e) {
    throw new CertificateRefused('CSR_MALFORMED', `CSR extensions cannot be parsed: ${(e as Error).message}`);
  }
  if (extensions.length > 1) {
    throw new CertificateRefused(
      'CSR_EXTRA_SAN',
      `CSR carries ${extensions.length} subjectAltName extensions; one is allowed`,
    );
  }
  if (extensions.length === 0) return [];
  try {
    return new x509.SubjectAlternativeNameExtension(extensions[0]!.rawData).names.toJSON();
  } catch (e) {
    // otherName, x400Address and ediPartyName land here: none of them is a mesh identity.
    throw new CertificateRefused(
      'CSR_EXTRA_SAN',
      `CSR subjectAltName holds a name type the CA never issues: ${(e as Error).message}`,
    );
  }
}

const SAN_LABEL: Record<string, string> = { dns: 'DNS', ip: 'IP', email: 'email', url: 'URI', dn: 'DirName' };

/**
 * Checks a CSR for `expectedId` (the caller's authenticated SPIFFE ID). Throws CertificateRefused
 * naming exactly what is wrong: malformed, bad signature, weak key, no identity, another identity,
 * or any name besides the one URI SAN.
 */
export async function checkCsr(pem: string, expectedId: string): Promise<CheckedCsr> {
  const csr = parse(pem);
  const keyDescription = checkKey(csr);
  await checkSignature(csr);
  const names = sanNames(csr);
  const uris = names.filter((n) => n.type === 'url').map((n) => n.value);
  const others = names.filter((n) => n.type !== 'url');
  if (uris.length === 0 && others.length === 0) {
    throw new CertificateRefused(
      'CSR_NO_IDENTITY',
      `CSR has no subjectAltName; it must carry exactly one URI SAN ${expectedId}`,
    );
  }
  const foreign = uris.filter((u) => u !== expectedId);
  if (foreign.length > 0) {
    throw new CertificateRefused(
      'CSR_IDENTITY_MISMATCH',
      `CSR asks for ${foreign.join(', ')} but the caller is authenticated as ${expectedId}`,
    );
  }
  if (uris.length > 1) {
    throw new CertificateRefused(
      'CSR_EXTRA_SAN',
      `CSR repeats the URI SAN ${expectedId} ${uris.length} times; one is allowed`,
    );
  }
  if (others.length > 0) {
    const listed = others.map((n) => `${SAN_LABEL[n.type] ?? n.type}:${n.value}`).join(', ');
    throw new CertificateRefused(
      'CSR_EXTRA_SAN',
      `CSR asks for extra names ${listed}; a workload certificate carries only the URI SAN ${expectedId}`,
    );
  }
  return { publicKey: csr.publicKey, keyDescription };
}
