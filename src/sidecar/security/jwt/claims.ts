// What a verified token tells the rest of the chain: Istio's request.auth.* metadata and claim headers.

import type { MetadataStruct, MetadataValue } from '../context.js';
import type { JsonObject, ParsedJwt } from './token.js';

/** The metadata name Istio's authorization reads (translate/authz.ts `AUTHN_METADATA_FILTER`). */
export const AUTHN_METADATA = 'istio_authn';
/** Envoy's jwt_authn filter publishes raw payloads here, under each provider's `payload_in_metadata`. */
export const JWT_AUTHN_METADATA = 'envoy.filters.http.jwt_authn';

function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return undefined;
}

/** A claim as Istio matches it: a list of strings (a scalar becomes one element), nested objects kept. */
function claimValue(v: unknown): MetadataValue | undefined {
  const scalar = scalarText(v);
  if (scalar !== undefined) return [scalar];
  if (Array.isArray(v)) return v.map(scalarText).filter((s): s is string => s !== undefined);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, MetadataValue> = {};
    for (const [k, inner] of Object.entries(v)) {
      const c = claimValue(inner);
      if (c !== undefined) out[k] = c;
    }
    return out;
  }
  return undefined;
}

/**
 * `istio_authn` for one verified token: `request.auth.principal` (`<iss>/<sub>`) and `request.auth.presenter`
 * (`azp`) as strings, `request.auth.audiences` and `request.auth.claims.<name>` as lists of strings, which is
 * how translate/authz.ts matches them (a claim matches when any element does).
 */
export function authnMetadata(jwt: ParsedJwt): MetadataStruct {
  const out: Record<string, MetadataValue> = {
    'request.auth.principal': `${jwt.iss ?? ''}/${jwt.sub ?? ''}`,
  };
  if (jwt.audiences.length > 0) out['request.auth.audiences'] = [...jwt.audiences];
  if (typeof jwt.payload.azp === 'string') out['request.auth.presenter'] = jwt.payload.azp;
  const claims: Record<string, MetadataValue> = {};
  for (const [name, v] of Object.entries(jwt.payload)) {
    const c = claimValue(v);
    if (c !== undefined) claims[name] = c;
  }
  out['request.auth.claims'] = claims;
  return out;
}

/** The claim at a dotted path (`claim_to_headers` nests with `.`). */
function claimAt(payload: JsonObject, path: string): unknown {
  if (path in payload) return payload[path];
  let v: unknown = payload;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as JsonObject)[part];
  }
  return v;
}

// A claim value is attacker-influenced text: CR, LF or NUL in it would forge headers.
const UNSAFE_HEADER_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** The header value Envoy's `claim_to_headers` writes, or undefined when the claim is absent or unsuitable. */
export function claimHeaderValue(payload: JsonObject, claim: string): string | undefined {
  const v = claimAt(payload, claim);
  let text = scalarText(v);
  if (text === undefined && Array.isArray(v) && v.every((x) => typeof x === 'string')) text = v.join(',');
  if (text === undefined || UNSAFE_HEADER_VALUE.test(text)) return undefined;
  return text;
}
