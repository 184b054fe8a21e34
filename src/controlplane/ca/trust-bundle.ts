// The set of trusted roots: several at once, so that a root can be replaced without downtime.

import { X509Certificate } from 'node:crypto';
import { TrellisError } from '../../shared/errors.js';
import { joinPem, splitPemCertificates } from './pem.js';

export interface TrustedRoot {
  pem: string;
  /** SHA-256 of the DER, lower-case hex without separators: the root's stable name. */
  fingerprint: string;
  subject: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

/** sha256 fingerprint in the form roots are named by. */
export function fingerprintOf(cert: X509Certificate): string {
  return cert.fingerprint256.replaceAll(':', '').toLowerCase();
}

function toRoot(pem: string, what: string): TrustedRoot {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e) {
    throw new TrellisError('CA_BUNDLE_INVALID', `${what}: not a certificate (${(e as Error).message})`);
  }
  if (!cert.ca) {
    throw new TrellisError(
      'CA_BUNDLE_INVALID',
      `${what}: certificate "${cert.subject}" is not a CA (basicConstraints CA:false)`,
    );
  }
  if (!cert.checkIssued(cert) || !cert.verify(cert.publicKey)) {
    throw new TrellisError('CA_BUNDLE_INVALID', `${what}: certificate "${cert.subject}" is not self-signed`);
  }
  return {
    pem: `${cert.toString().trim()}\n`,
    fingerprint: fingerprintOf(cert),
    subject: cert.subject.replaceAll('\n', ', '),
    serial: cert.serialNumber.toLowerCase(),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
  };
}

/** An immutable list of self-signed CA certificates; order is kept (the signing root goes first). */
export class TrustBundle {
  readonly roots: readonly TrustedRoot[];

  private constructor(roots: readonly TrustedRoot[]) {
    this.roots = roots;
  }

  /** Parses every certificate in `text`; `what` names the source in errors. Duplicates are dropped. */
  static fromPem(text: string, what: string): TrustBundle {
    const blocks = splitPemCertificates(text);
    return TrustBundle.of(blocks.map((b, i) => toRoot(b, `${what} (certificate ${i + 1})`)));
  }

  static of(roots: readonly TrustedRoot[]): TrustBundle {
    const seen = new Set<string>();
    return new TrustBundle(roots.filter((r) => !seen.has(r.fingerprint) && seen.add(r.fingerprint)));
  }

  /** Every root, PEM-concatenated: the form of Istio's root-cert.pem and the `ROOTCA` secret. */
  get pem(): string {
    return joinPem(this.roots.map((r) => r.pem));
  }

  has(fingerprint: string): boolean {
    return this.roots.some((r) => r.fingerprint === fingerprint);
  }

  /**
   * The root a user means by `ref`: a fingerprint or a unique prefix of at least 8 hex digits, or a
   * serial. Undefined when nothing or several roots match.
   */
  find(ref: string): TrustedRoot | undefined {
    const needle = ref.replaceAll(':', '').toLowerCase();
    const exact = this.roots.find((r) => r.fingerprint === needle || r.serial === needle);
    if (exact) return exact;
    if (needle.length < 8) return undefined;
    const matches = this.roots.filter((r) => r.fingerprint.startsWith(needle));
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** A bundle with `roots` added at the front (existing ones keep their place). */
  withFirst(...roots: TrustedRoot[]): TrustBundle {
    return TrustBundle.of([...roots, ...this.roots]);
  }

  with(...roots: TrustedRoot[]): TrustBundle {
    return TrustBundle.of([...this.roots, ...roots]);
  }

  without(fingerprint: string): TrustBundle {
    return new TrustBundle(this.roots.filter((r) => r.fingerprint !== fingerprint));
  }
}

/** One root from PEM (exactly one certificate expected). */
export function trustedRootFromPem(pem: string, what: string): TrustedRoot {
  const blocks = splitPemCertificates(pem);
  if (blocks.length !== 1) {
    throw new TrellisError('CA_BUNDLE_INVALID', `${what}: expected one certificate, found ${blocks.length}`);
  }
  return toRoot(blocks[0]!, what);
}
