// The CA state directory on disk: atomic writes, 0600 for keys, 0700 for the directory.

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** File names inside the state directory (Istio's cacerts names where they mean the same thing). */
export const STATE_FILES = {
  /** Self-signed mode: the signing root and its key. */
  caCert: 'ca-cert.pem',
  caKey: 'ca-key.pem',
  /** A root added by addRoot() and not yet signing. */
  pendingCaCert: 'pending-ca-cert.pem',
  pendingCaKey: 'pending-ca-key.pem',
  /** Every trusted root: what sidecars receive as `ROOTCA`. */
  rootCert: 'root-cert.pem',
  /** The control plane's current serving chain (public; for `trellis x certs`). */
  servingCert: 'serving-cert.pem',
  /** Key signing workload tokens, and its public half as a JWKS for verifiers elsewhere. */
  tokenKey: 'token-key.pem',
  tokenJwks: 'token-jwks.json',
} as const;

export async function ensureStateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing directory's mode alone; keys must not sit in a world-readable one.
  if (((await stat(dir)).mode & 0o077) !== 0) await chmod(dir, 0o700);
}

export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Writes via a temporary file and rename, so a crash never leaves half a key; `secret` files get 0600
 * from creation (never briefly world-readable).
 */
export async function writeStateFile(
  dir: string,
  name: string,
  data: string,
  opts: { secret: boolean },
): Promise<void> {
  const mode = opts.secret ? 0o600 : 0o644;
  const tmp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(tmp, data, { mode, flag: 'wx' });
  await chmod(tmp, mode);
  await rename(tmp, join(dir, name));
}

export async function removeStateFile(dir: string, name: string): Promise<void> {
  await rm(join(dir, name), { force: true });
}
