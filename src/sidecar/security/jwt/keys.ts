// A provider's JWKS, imported once per config, and signature checks that bind each key to the algorithms it may use.

import { createPublicKey, type KeyObject } from 'node:crypto';
import { compactVerify } from 'jose';
import { errorMessage } from '../../../shared/errors.js';
import type { JwtStatus } from './status.js';
import type { ParsedJwt } from './token.js';

interface ImportedKey {
  kid: string | undefined;
  alg: string | undefined;
  /** The algorithms this key can verify: its type and curve decide, never the token. */
  algorithms: ReadonlySet<string>;
  key: KeyObject;
}

const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_ALG_BY_CURVE: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };

/** Which algorithms a JWK may verify, or a reason to skip it (Envoy's per-key JWKS checks). */
function algorithmsFor(jwk: Record<string, unknown>): readonly string[] | string {
  const alg = typeof jwk.alg === 'string' ? jwk.alg : undefined;
  switch (jwk.kty) {
    case 'RSA':
      if (alg && !RSA_ALGS.includes(alg)) return `[alg] "${alg}" is not an RS or PS algorithm for an RSA key`;
      return alg ? [alg] : RSA_ALGS;
    case 'EC': {
      const curveAlg = typeof jwk.crv === 'string' ? EC_ALG_BY_CURVE[jwk.crv] : undefined;
      if (!curveAlg) return `[crv] "${String(jwk.crv)}" is not supported for an EC key`;
      if (alg && alg !== curveAlg) return `[alg] "${alg}" is not compatible with [crv] "${String(jwk.crv)}"`;
      return [curveAlg];
    }
    case 'OKP':
      if (jwk.crv !== 'Ed25519' && jwk.crv !== 'Ed448')
        return `[crv] "${String(jwk.crv)}" is not supported for an OKP key`;
      if (alg && alg !== 'EdDSA' && alg !== 'Ed25519') return `[alg] "${alg}" is not EdDSA for an OKP key`;
      return ['EdDSA'];
    case 'oct':
      // A symmetric secret inside a JWKS would be shared with every workload that reads the config.
      return 'symmetric (oct) keys are not accepted';
    default:
      return `[kty] "${String(jwk.kty)}" is not supported`;
  }
}

export interface JwksLoadResult {
  keys: JwksKeys;
  /** Why keys (or the whole document) were skipped; the caller logs them once per config. */
  problems: string[];
}

/**
 * The imported public keys of one provider. A JWKS that cannot be read yields no keys, so every token of
 * that provider is refused: the failure closes, it never falls back to anything.
 */
export class JwksKeys {
  readonly #keys: readonly ImportedKey[];

  private constructor(keys: readonly ImportedKey[]) {
    this.#keys = keys;
  }

  static load(jwksJson: string): JwksLoadResult {
    const problems: string[] = [];
    let doc: unknown;
    try {
      doc = JSON.parse(jwksJson);
    } catch (e) {
      return { keys: new JwksKeys([]), problems: [`the JWKS is not JSON: ${errorMessage(e)}`] };
    }
    const list = (doc as { keys?: unknown })?.keys;
    if (!Array.isArray(list)) return { keys: new JwksKeys([]), problems: ['the JWKS has no [keys] array'] };
    const keys: ImportedKey[] = [];
    list.forEach((jwk: Record<string, unknown>, i) => {
      const label = `key ${i}${typeof jwk?.kid === 'string' ? ` (kid "${jwk.kid}")` : ''}`;
      if (jwk === null || typeof jwk !== 'object') {
        problems.push(`${label}: not an object`);
        return;
      }
      const algorithms = algorithmsFor(jwk);
      if (typeof algorithms === 'string') {
        problems.push(`${label}: ${algorithms}`);
        return;
      }
      try {
        // Only public members: a JWKS that carries a private key must not turn into a signing key here.
        const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, k: _k, ...pub } = jwk;
        const key = createPublicKey({ key: pub as never, format: 'jwk' });
        keys.push({
          kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
          alg: typeof jwk.alg === 'string' ? jwk.alg : undefined,
          algorithms: new Set(algorithms),
          key,
        });
      } catch (e) {
        problems.push(`${label}: ${errorMessage(e)}`);
      }
    });
    if (keys.length === 0 && problems.length === 0) problems.push('the JWKS has no keys');
    return { keys: new JwksKeys(keys), problems };
  }

  get size(): number {
    return this.#keys.length;
  }

  /**
   * jwt_verify_lib's key walk: skip keys whose `kid` or `alg` differ from the token's, try the others. With
   * no candidate the answer is `kidAlgMismatch`; with candidates that all fail, `verificationFail`. A key is
   * only ever used with the algorithms its own type allows, so an HS256 token signed with an RSA public key,
   * or an `alg` a key was not made for, cannot verify.
   */
  async verify(jwt: ParsedJwt): Promise<JwtStatus | undefined> {
    let candidate = false;
    for (const k of this.#keys) {
      if (jwt.kid !== undefined && k.kid !== undefined && k.kid !== jwt.kid) continue;
      if (k.alg !== undefined && k.alg !== jwt.alg && !(k.alg === 'Ed25519' && jwt.alg === 'EdDSA')) continue;
      candidate = true;
      if (!k.algorithms.has(jwt.alg)) continue;
      try {
        await compactVerify(jwt.token, k.key, { algorithms: [jwt.alg] });
        return undefined;
      } catch {
        // Try the next key: several keys may share a kid during rotation.
      }
    }
    return candidate ? 'verificationFail' : 'kidAlgMismatch';
  }
}
