// Building the mesh's certificates: roots, intermediates, workload SVIDs and the control plane's serving cert.

import { randomBytes } from 'node:crypto';
import type { SigningKey } from './keys.js';
import { type CryptoKey, x509 } from './x509.js';

/** A certificate and the key that signs with it. */
export interface Signer {
  cert: x509.X509Certificate;
  signingKey: SigningKey;
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/** A positive 128-bit serial: random, so serials never repeat across restarts or roots. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  // Top bit clear keeps the DER INTEGER positive; a non-zero first byte keeps it 16 bytes long.
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

const { keyCertSign, cRLSign, digitalSignature, keyEncipherment } = x509.KeyUsageFlags;

/** A self-signed root: CA:true (critical), keyCertSign + cRLSign, a name unique to this root. */
export async function createRootCertificate(opts: {
  trustDomain: string;
  keys: { publicKey: CryptoKey; privateKey: CryptoKey };
  signingKey: SigningKey;
  validity: Validity;
}): Promise<x509.X509Certificate> {
  const serialNumber = randomSerial();
  // A distinct name per root keeps chain building unambiguous while two roots are trusted at once.
  const name = `O=${opts.trustDomain}, CN=Trellis Root CA ${serialNumber.slice(0, 8)}`;
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber,
    name,
    keys: opts.keys,
    signingAlgorithm: opts.signingKey.algorithm,
    notBefore: opts.validity.notBefore,
    notAfter: opts.validity.notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(keyCertSign | cRLSign | digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(opts.keys.publicKey),
    ],
  });
}

/** An intermediate CA signed by `signer` (as an offline root signs a plug-in CA). */
export async function issueIntermediateCertificate(
  signer: Signer,
  opts: { publicKey: x509.PublicKeyType; subject: string; validity: Validity; pathLength?: number },
): Promise<x509.X509Certificate> {
  return sign(signer, {
    subject: opts.subject,
    publicKey: opts.publicKey,
    validity: opts.validity,
    extensions: [
      new x509.BasicConstraintsExtension(true, opts.pathLength, true),
      new x509.KeyUsagesExtension(keyCertSign | cRLSign | digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(opts.publicKey),
    ],
  });
}

/**
 * A workload SVID: empty subject, exactly one URI SAN (critical, as RFC 5280 requires with an empty
 * subject), CA:false, EKU serverAuth + clientAuth.
 */
export async function issueWorkloadCertificate(
  signer: Signer,
  opts: { publicKey: x509.PublicKey; spiffeId: string; validity: Validity },
): Promise<x509.X509Certificate> {
  // keyEncipherment only means something for RSA key transport; ECDSA keys only sign.
  const usages =
    opts.publicKey.algorithm.name === 'ECDSA' ? digitalSignature : digitalSignature | keyEncipherment;
  return sign(signer, {
    subject: '',
    publicKey: opts.publicKey,
    validity: opts.validity,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usages, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: opts.spiffeId }], true),
    ],
  });
}

/** The control plane's TLS serving certificate: DNS and IP SANs, EKU serverAuth + clientAuth. */
export async function issueServingCertificate(
  signer: Signer,
  opts: {
    publicKey: x509.PublicKeyType;
    trustDomain: string;
    dnsNames: readonly string[];
    ipAddresses: readonly string[];
    validity: Validity;
  },
): Promise<x509.X509Certificate> {
  const names: { type: 'dns' | 'ip'; value: string }[] = [
    ...opts.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...opts.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
  return sign(signer, {
    subject: `O=${opts.trustDomain}, CN=trellis-controlplane`,
    publicKey: opts.publicKey,
    validity: opts.validity,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(digitalSignature | keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension(names, false),
    ],
  });
}

async function sign(
  signer: Signer,
  opts: { subject: string; publicKey: x509.PublicKeyType; validity: Validity; extensions: x509.Extension[] },
): Promise<x509.X509Certificate> {
  const ski = signer.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const akid = ski
    ? new x509.AuthorityKeyIdentifierExtension(ski.keyId)
    : await x509.AuthorityKeyIdentifierExtension.create(signer.cert.publicKey);
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: opts.subject,
    issuer: signer.cert.subjectName,
    publicKey: opts.publicKey,
    signingKey: signer.signingKey.key,
    signingAlgorithm: signer.signingKey.algorithm,
    notBefore: opts.validity.notBefore,
    notAfter: opts.validity.notAfter,
    extensions: [...opts.extensions, akid],
  });
}
