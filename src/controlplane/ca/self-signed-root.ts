// The self-signed root kept in the state directory: created on first start, reloaded and checked after.

import { join } from 'node:path';
import { TrellisError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { createRootCertificate } from './certificates.js';
import { generateP256, p256SigningKey, privateKeyToPem } from './keys.js';
import { buildSigningMaterial, type SigningMaterial } from './signing-material.js';
import { readOptional, STATE_FILES, writeStateFile } from './state-files.js';
import { TrustBundle, type TrustedRoot, trustedRootFromPem } from './trust-bundle.js';

export const DEFAULT_ROOT_TTL_MS = 3650 * 86_400_000;

/** A root added for rotation that does not sign yet. */
export interface Pending {
  root: TrustedRoot;
  keyPem: string;
}

export async function createRoot(opts: {
  trustDomain: string;
  now: Date;
  ttlMs: number | undefined;
}): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateP256();
  const cert = await createRootCertificate({
    trustDomain: opts.trustDomain,
    keys,
    signingKey: p256SigningKey(keys),
    validity: {
      notBefore: new Date(opts.now.getTime() - 60_000),
      notAfter: new Date(opts.now.getTime() + (opts.ttlMs ?? DEFAULT_ROOT_TTL_MS)),
    },
  });
  return { certPem: `${cert.toString('pem').trim()}\n`, keyPem: await privateKeyToPem(keys.privateKey) };
}

export async function loadOrCreateSelfSigned(opts: {
  dir: string;
  trustDomain: string;
  now: Date;
  ttlMs: number | undefined;
  log: Logger;
}): Promise<SigningMaterial> {
  const { dir } = opts;
  let certPem = await readOptional(join(dir, STATE_FILES.caCert));
  let keyPem = await readOptional(join(dir, STATE_FILES.caKey));
  if (certPem === undefined && keyPem === undefined) {
    const created = await createRoot(opts);
    // Key first: a crash in between leaves a key without a cert, which the next start reports.
    await writeStateFile(dir, STATE_FILES.caKey, created.keyPem, { secret: true });
    await writeStateFile(dir, STATE_FILES.caCert, created.certPem, { secret: false });
    ({ certPem, keyPem } = created);
    opts.log.info('created a self-signed root', { dir });
  }
  if (certPem === undefined || keyPem === undefined) {
    const missing = certPem === undefined ? STATE_FILES.caCert : STATE_FILES.caKey;
    throw new TrellisError(
      'CA_FILES_INVALID',
      `CA state directory ${dir} has ${missing === STATE_FILES.caCert ? STATE_FILES.caKey : STATE_FILES.caCert} but not ${missing}; restore it or empty the directory to start a new root`,
    );
  }
  return buildSigningMaterial({
    caCertPem: certPem,
    caKeyPem: keyPem,
    roots: TrustBundle.fromPem(certPem, `CA state file ${join(dir, STATE_FILES.caCert)}`),
    now: opts.now,
    where: (f) => `CA state file ${join(dir, f)}`,
  });
}

export async function loadPending(dir: string): Promise<Pending | undefined> {
  const certPem = await readOptional(join(dir, STATE_FILES.pendingCaCert));
  const keyPem = await readOptional(join(dir, STATE_FILES.pendingCaKey));
  if (certPem === undefined || keyPem === undefined) return undefined;
  return {
    root: trustedRootFromPem(certPem, `CA state file ${join(dir, STATE_FILES.pendingCaCert)}`),
    keyPem,
  };
}
