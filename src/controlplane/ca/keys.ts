// Private keys for the CA: generated as ECDSA P-256, or imported from PEM (PKCS#8, SEC1 or PKCS#1 RSA).

import { createPrivateKey, webcrypto } from 'node:crypto';
import { TrellisError } from '../../shared/errors.js';
import type { CryptoKey, CryptoKeyPair } from './x509.js';

/** The algorithm a signing key signs with (WebCrypto names). */
export type SigningAlgorithm =
  | { name: 'ECDSA'; hash: 'SHA-256' | 'SHA-384' }
  | { name: 'RSASSA-PKCS1-v1_5'; hash: 'SHA-256' };

export interface SigningKey {
  key: CryptoKey;
  algorithm: SigningAlgorithm;
}

export const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const EC_SIGN: SigningAlgorithm = { name: 'ECDSA', hash: 'SHA-256' };

/** A fresh extractable ECDSA P-256 key pair. */
export async function generateP256(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(P256, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export function p256SigningKey(keys: CryptoKeyPair): SigningKey {
  return { key: keys.privateKey, algorithm: EC_SIGN };
}

/** PKCS#8 PEM of an extractable private key. */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({
    format: 'pem',
    type: 'pkcs8',
  }) as string;
}

const CURVES: Record<string, { namedCurve: 'P-256' | 'P-384'; hash: 'SHA-256' | 'SHA-384' }> = {
  prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
  secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
};

/**
 * Imports a signing key from PEM. `what` names the file in error messages. Accepts EC P-256/P-384
 * and RSA (>= 2048 bits), the kinds Istio's plug-in CA files hold.
 */
export async function importSigningKeyPem(pem: string, what: string): Promise<SigningKey> {
  let keyObject: ReturnType<typeof createPrivateKey>;
  try {
    keyObject = createPrivateKey(pem);
  } catch (e) {
    throw new TrellisError('CA_KEY_INVALID', `${what}: not a PEM private key (${(e as Error).message})`, {
      cause: e,
    });
  }
  const der = keyObject.export({ format: 'der', type: 'pkcs8' });
  const details = keyObject.asymmetricKeyDetails ?? {};
  if (keyObject.asymmetricKeyType === 'ec') {
    const curve = CURVES[details.namedCurve ?? ''];
    if (!curve) {
      throw new TrellisError(
        'CA_KEY_INVALID',
        `${what}: EC curve ${details.namedCurve ?? '(unknown)'} is not supported; use P-256 or P-384`,
      );
    }
    const key = await webcrypto.subtle.importKey(
      'pkcs8',
      der,
      { name: 'ECDSA', namedCurve: curve.namedCurve },
      true,
      ['sign'],
    );
    return { key, algorithm: { name: 'ECDSA', hash: curve.hash } };
  }
  if (keyObject.asymmetricKeyType === 'rsa') {
    if ((details.modulusLength ?? 0) < 2048) {
      throw new TrellisError(
        'CA_KEY_INVALID',
        `${what}: RSA key of ${details.modulusLength} bits; need >= 2048`,
      );
    }
    const key = await webcrypto.subtle.importKey(
      'pkcs8',
      der,
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      true,
      ['sign'],
    );
    return { key, algorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } };
  }
  throw new TrellisError(
    'CA_KEY_INVALID',
    `${what}: ${keyObject.asymmetricKeyType} keys are not supported; use EC P-256/P-384 or RSA`,
  );
}
