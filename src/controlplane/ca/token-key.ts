// The CA's token signing key: created once in the state directory (0600), published as a JWKS.

import { join } from 'node:path';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importPKCS8,
  type JSONWebKeySet,
} from 'jose';
import { TrellisError } from '../../shared/errors.js';
import { readOptional, STATE_FILES, writeStateFile } from './state-files.js';

export interface TokenKey {
  privateKey: CryptoKey;
  kid: string;
  jwks: JSONWebKeySet;
}

async function publicJwks(privateKey: CryptoKey): Promise<{ kid: string; jwks: JSONWebKeySet }> {
  const jwk = await exportJWK(privateKey);
  const pub = { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! };
  const kid = await calculateJwkThumbprint(pub);
  return { kid, jwks: { keys: [{ ...pub, kid, alg: 'ES256', use: 'sig' }] } };
}

/** Loads the token key from `stateDir`, creating it (and token-jwks.json) on first use. */
export async function loadOrCreateTokenKey(stateDir: string): Promise<TokenKey> {
  const existing = await readOptional(join(stateDir, STATE_FILES.tokenKey));
  if (existing !== undefined) {
    let privateKey: CryptoKey;
    try {
      privateKey = await importPKCS8(existing, 'ES256', { extractable: true });
    } catch (e) {
      throw new TrellisError(
        'CA_FILES_INVALID',
        `CA state file ${join(stateDir, STATE_FILES.tokenKey)} is not an ES256 (P-256) PKCS#8 key: ${(e as Error).message}`,
      );
    }
    const { kid, jwks } = await publicJwks(privateKey);
    if ((await readOptional(join(stateDir, STATE_FILES.tokenJwks))) === undefined) {
      await writeStateFile(stateDir, STATE_FILES.tokenJwks, `${JSON.stringify(jwks, null, 2)}\n`, {
        secret: false,
      });
    }
    return { privateKey, kid, jwks };
  }
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  await writeStateFile(stateDir, STATE_FILES.tokenKey, await exportPKCS8(privateKey), { secret: true });
  const { kid, jwks } = await publicJwks(privateKey);
  await writeStateFile(stateDir, STATE_FILES.tokenJwks, `${JSON.stringify(jwks, null, 2)}\n`, {
    secret: false,
  });
  return { privateKey, kid, jwks };
}
