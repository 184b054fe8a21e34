// What the CA signs with: a signing certificate and key, the chain up to a trusted root, checked on load.

import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrellisError } from '../../shared/errors.js';
import type { Signer } from './certificates.js';
import { importSigningKeyPem } from './keys.js';
import { splitPemCertificates } from './pem.js';
import { fingerprintOf, TrustBundle, type TrustedRoot } from './trust-bundle.js';
import { x509 } from './x509.js';

/** Istio's plug-in CA file names (the `cacerts` secret). */
export const PLUGIN_FILES = {
  caCert: 'ca-cert.pem',
  caKey: 'ca-key.pem',
  rootCert: 'root-cert.pem',
  certChain: 'cert-chain.pem',
} as const;

export interface SigningMaterial {
  signer: Signer;
  /** PEM certificates between a leaf and the root: the signing cert first; empty when it is the root. */
  intermediates: readonly string[];
  /** The root the signing chain ends at. */
  anchor: TrustedRoot;
  /** Roots supplied with the material (a plug-in root-cert.pem may hold several). */
  roots: TrustBundle;
  /** The earliest notAfter along the chain: nothing issued may outlive it. */
  notAfter: Date;
  notBefore: Date;
}

function isSelfSigned(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

function describe(cert: X509Certificate): string {
  return `"${cert.subject.replaceAll('\n', ', ')}" (serial ${cert.serialNumber.toLowerCase()})`;
}

async function readRequired(dir: string, name: string): Promise<string> {
  try {
    return await readFile(join(dir, name), 'utf8');
  } catch (e) {
    throw new TrellisError(
      'CA_FILES_INVALID',
      `plug-in CA file ${join(dir, name)} cannot be read: ${(e as Error).message}`,
    );
  }
}

/**
 * Checks a signing certificate, its key and its chain, and builds the material. `where(file)` names
 * files in error messages. Refuses: a key that does not match, a non-CA signing cert, a broken or
 * expired chain, a chain that does not end at one of `roots`.
 */
export async function buildSigningMaterial(opts: {
  caCertPem: string;
  caKeyPem: string;
  chainPem?: string;
  roots: TrustBundle;
  now: Date;
  where: (file: string) => string;
}): Promise<SigningMaterial> {
  const { where } = opts;
  const caBlocks = splitPemCertificates(opts.caCertPem);
  if (caBlocks.length === 0) {
    throw new TrellisError('CA_FILES_INVALID', `${where(PLUGIN_FILES.caCert)}: no certificate found`);
  }
  const caCert = new X509Certificate(caBlocks[0]!);
  if (!caCert.ca) {
    throw new TrellisError(
      'CA_FILES_INVALID',
      `${where(PLUGIN_FILES.caCert)}: ${describe(caCert)} is not a CA certificate (basicConstraints CA:false)`,
    );
  }
  const peculiar = new x509.X509Certificate(caBlocks[0]!);
  const usage = peculiar.getExtension(x509.KeyUsagesExtension);
  if (usage && (usage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw new TrellisError(
      'CA_FILES_INVALID',
      `${where(PLUGIN_FILES.caCert)}: ${describe(caCert)} lacks the keyCertSign key usage`,
    );
  }
  const signingKey = await importSigningKeyPem(opts.caKeyPem, where(PLUGIN_FILES.caKey));
  const certSpki = caCert.publicKey.export({ type: 'spki', format: 'der' });
  const keySpki = createPublicKey(createPrivateKey(opts.caKeyPem)).export({ type: 'spki', format: 'der' });
  if (!certSpki.equals(keySpki)) {
    throw new TrellisError(
      'CA_FILES_INVALID',
      `${where(PLUGIN_FILES.caKey)} does not hold the private key of ${where(PLUGIN_FILES.caCert)} ${describe(caCert)}`,
    );
  }

  // The chain: ca-cert, then cert-chain.pem without repeats of ca-cert and without roots.
  const chain: X509Certificate[] = [caCert];
  for (const block of [...caBlocks.slice(1), ...splitPemCertificates(opts.chainPem ?? '')]) {
    const cert = new X509Certificate(block);
    if (chain.some((c) => c.fingerprint256 === cert.fingerprint256) || isSelfSigned(cert)) continue;
    chain.push(cert);
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!issuedBy(chain[i]!, chain[i + 1]!)) {
      throw new TrellisError(
        'CA_FILES_INVALID',
        `${where(PLUGIN_FILES.certChain)}: ${describe(chain[i]!)} is not signed by the next certificate ${describe(chain[i + 1]!)}`,
      );
    }
  }
  const top = chain.at(-1)!;
  const anchor = opts.roots.roots.find((r) => {
    const root = new X509Certificate(r.pem);
    return fingerprintOf(root) === fingerprintOf(top) || issuedBy(top, root);
  });
  if (!anchor) {
    throw new TrellisError(
      'CA_FILES_INVALID',
      `${where(PLUGIN_FILES.rootCert)}: no root signs ${describe(top)}; the chain from ${where(PLUGIN_FILES.caCert)} must end at a root in ${where(PLUGIN_FILES.rootCert)}`,
    );
  }
  const anchorCert = new X509Certificate(anchor.pem);
  const all = fingerprintOf(top) === anchor.fingerprint ? chain : [...chain, anchorCert];
  for (const cert of all) {
    const from = new Date(cert.validFrom);
    const to = new Date(cert.validTo);
    if (to.getTime() <= opts.now.getTime() || from.getTime() > opts.now.getTime()) {
      throw new TrellisError(
        'CA_FILES_INVALID',
        `certificate ${describe(cert)} in the signing chain is not valid now (valid ${from.toISOString()} to ${to.toISOString()})`,
      );
    }
  }
  const intermediates = chain
    .filter((c) => fingerprintOf(c) !== anchor.fingerprint)
    .map((c) => `${c.toString().trim()}\n`);
  return {
    signer: { cert: peculiar, signingKey },
    intermediates,
    anchor,
    roots: opts.roots,
    notAfter: new Date(Math.min(...all.map((c) => new Date(c.validTo).getTime()))),
    notBefore: new Date(Math.max(...all.map((c) => new Date(c.validFrom).getTime()))),
  };
}

/** Loads and checks Istio-style plug-in CA files from `dir`. */
export async function loadPluginCa(dir: string, now: Date): Promise<SigningMaterial> {
  const where = (file: string) => `plug-in CA file ${join(dir, file)}`;
  const caCertPem = await readRequired(dir, PLUGIN_FILES.caCert);
  const caKeyPem = await readRequired(dir, PLUGIN_FILES.caKey);
  const rootPem = await readRequired(dir, PLUGIN_FILES.rootCert);
  let chainPem: string | undefined;
  try {
    chainPem = await readFile(join(dir, PLUGIN_FILES.certChain), 'utf8');
  } catch {
    // cert-chain.pem may be absent when ca-cert.pem is signed directly by the root.
    chainPem = undefined;
  }
  const roots = TrustBundle.fromPem(rootPem, where(PLUGIN_FILES.rootCert));
  if (roots.roots.length === 0) {
    throw new TrellisError('CA_FILES_INVALID', `${where(PLUGIN_FILES.rootCert)}: no certificate found`);
  }
  return buildSigningMaterial({ caCertPem, caKeyPem, chainPem, roots, now, where });
}
