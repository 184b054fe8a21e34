// Reads the certificates in a CA state directory without opening the CA (nothing is created or changed).

import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { splitPemCertificates } from './pem.js';
import { readOptional, STATE_FILES } from './state-files.js';

export type StateCertificateRole = 'root' | 'signing root' | 'pending root' | 'serving' | 'intermediate';

export interface StateCertificate {
  file: string;
  role: StateCertificateRole;
  pem: string;
}

function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** Every certificate in `dir`: the trusted roots (marking the signing and pending ones) and the serving chain. */
export async function readCaStateCertificates(dir: string): Promise<StateCertificate[]> {
  const out: StateCertificate[] = [];
  const signing = await readOptional(join(dir, STATE_FILES.caCert));
  const pending = await readOptional(join(dir, STATE_FILES.pendingCaCert));
  const signingFp = signing ? splitPemCertificates(signing).map(fingerprint)[0] : undefined;
  const pendingFp = pending ? splitPemCertificates(pending).map(fingerprint)[0] : undefined;
  const bundleFile = join(dir, STATE_FILES.rootCert);
  const seen = new Set<string>();
  for (const pem of splitPemCertificates((await readOptional(bundleFile)) ?? '')) {
    const fp = fingerprint(pem);
    seen.add(fp);
    const role = fp === signingFp ? 'signing root' : fp === pendingFp ? 'pending root' : 'root';
    out.push({ file: bundleFile, role, pem });
  }
  for (const [pem, file, role] of [
    [signing, STATE_FILES.caCert, 'signing root'],
    [pending, STATE_FILES.pendingCaCert, 'pending root'],
  ] as const) {
    const block = pem ? splitPemCertificates(pem)[0] : undefined;
    if (block && !seen.has(fingerprint(block))) out.push({ file: join(dir, file), role, pem: block });
  }
  const servingFile = join(dir, STATE_FILES.servingCert);
  splitPemCertificates((await readOptional(servingFile)) ?? '').forEach((pem, i) => {
    out.push({ file: servingFile, role: i === 0 ? 'serving' : 'intermediate', pem });
  });
  return out;
}
