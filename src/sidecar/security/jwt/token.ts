// Parsing a compact JWT strictly, in jwt_verify_lib's order, before any key is touched.

import type { JwtStatus } from './status.js';

/** Algorithms Envoy implements; anything else (`none` included) is refused before key lookup. */
const IMPLEMENTED_ALGS = new Set([
  'ES256',
  'ES384',
  'ES512',
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
]);

export type JsonObject = { readonly [key: string]: unknown };

export interface ParsedJwt {
  /** The compact token as received. */
  token: string;
  alg: string;
  kid: string | undefined;
  /** The payload segment as sent (base64url), forwarded by `forward_payload_header`. */
  payloadSegment: string;
  payload: JsonObject;
  iss: string | undefined;
  sub: string | undefined;
  /** `aud` as a list (a single string becomes one element). */
  audiences: readonly string[];
  nbf: number | undefined;
  exp: number | undefined;
}

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Strict base64url (absl::WebSafeBase64Unescape): Node's decoder silently skips invalid characters. */
function decodeBase64url(segment: string): Buffer | undefined {
  if (!BASE64URL.test(segment)) return undefined;
  const bare = segment.replace(/=+$/, '');
  if (bare.length % 4 === 1) return undefined;
  return Buffer.from(bare, 'base64url');
}

function parseObject(bytes: Buffer): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
}

function optionalString(obj: JsonObject, key: string): string | undefined | null {
  const v = obj[key];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : null;
}

/** A non-negative integer time claim, undefined when absent, null when malformed. */
function optionalTime(obj: JsonObject, key: string): number | undefined | null {
  const v = obj[key];
  if (v === undefined) return undefined;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;
}

/** Parses a token or returns the status explaining why it is not one. */
export function parseJwt(token: string): ParsedJwt | JwtStatus {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) return 'badFormat';
  const [headerSegment, payloadSegment, signatureSegment] = parts as [string, string, string];
  const headerBytes = decodeBase64url(headerSegment);
  if (!headerBytes) return 'headerBadBase64';
  const header = parseObject(headerBytes);
  if (!header) return 'headerBadJson';
  const alg = header.alg;
  if (typeof alg !== 'string') return 'headerBadAlg';
  if (!IMPLEMENTED_ALGS.has(alg)) return 'headerNotImplementedAlg';
  const kid = optionalString(header, 'kid');
  if (kid === null) return 'headerBadKid';
  const payloadBytes = decodeBase64url(payloadSegment);
  if (!payloadBytes) return 'payloadBadBase64';
  const payload = parseObject(payloadBytes);
  if (!payload) return 'payloadBadJson';
  const iss = optionalString(payload, 'iss');
  if (iss === null) return 'issNotString';
  const sub = optionalString(payload, 'sub');
  if (sub === null) return 'subNotString';
  if (optionalTime(payload, 'iat') === null) return 'iatNotInteger';
  const nbf = optionalTime(payload, 'nbf');
  if (nbf === null) return 'nbfNotInteger';
  const exp = optionalTime(payload, 'exp');
  if (exp === null) return 'expNotInteger';
  if (optionalString(payload, 'jti') === null) return 'jtiNotString';
  const aud = payload.aud;
  let audiences: readonly string[] = [];
  if (typeof aud === 'string') audiences = [aud];
  else if (Array.isArray(aud)) {
    if (!aud.every((a) => typeof a === 'string')) return 'audNotString';
    audiences = aud as string[];
  } else if (aud !== undefined) return 'audNotString';
  if (!decodeBase64url(signatureSegment)) return 'signatureBadBase64';
  return { token, alg, kid, payloadSegment, payload, iss, sub, audiences, nbf, exp };
}

/** Envoy's default `clock_skew_seconds`. */
export const CLOCK_SKEW_SECONDS = 60;

/** jwt_verify_lib's time check: not before `nbf - skew`, not after `exp + skew`. */
export function checkTime(
  jwt: ParsedJwt,
  nowSeconds: number,
  skew = CLOCK_SKEW_SECONDS,
): JwtStatus | undefined {
  if (jwt.nbf !== undefined && nowSeconds + skew < jwt.nbf) return 'notYetValid';
  if (jwt.exp !== undefined && jwt.exp !== 0 && nowSeconds > jwt.exp + skew) return 'expired';
  return undefined;
}

/** jwt_verify_lib's audience normalization: scheme and trailing slash do not matter. */
function sanitizeAudience(aud: string): string {
  let a = aud;
  if (a.startsWith('http://')) a = a.slice(7);
  else if (a.startsWith('https://')) a = a.slice(8);
  return a.endsWith('/') ? a.slice(0, -1) : a;
}

/** True when the provider accepts any audience, or the token names one of the provider's. */
export function audiencesAllowed(configured: readonly string[], jwt: ParsedJwt): boolean {
  if (configured.length === 0) return true;
  const allowed = new Set(configured.map(sanitizeAudience));
  return jwt.audiences.some((a) => allowed.has(sanitizeAudience(a)));
}
