// SPIFFE IDs as the mesh uses them: `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`.

export const SPIFFE_SCHEME = 'spiffe://';

/** The SPIFFE spec caps an ID at 2048 bytes. */
const MAX_ID_LENGTH = 2048;
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const PATH_SEGMENT = /^[A-Za-z0-9._-]+$/;

/** A workload identity in Istio's form. */
export interface WorkloadIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

/** Any SPIFFE ID: a trust domain and a path (`''` or `/a/b`). */
export interface SpiffeId {
  trustDomain: string;
  path: string;
}

/** True when `name` is a valid SPIFFE trust domain (lower case letters, digits, `.`, `-`, `_`). */
export function isValidTrustDomain(name: string): boolean {
  return name.length > 0 && name.length <= 255 && TRUST_DOMAIN.test(name);
}

/**
 * Parses a SPIFFE ID strictly per the SPIFFE spec; undefined when the text is not one.
 * Strictness matters: an ID compared by string elsewhere must have a single spelling.
 */
export function parseSpiffeId(text: string): SpiffeId | undefined {
  if (typeof text !== 'string' || text.length > MAX_ID_LENGTH || !text.startsWith(SPIFFE_SCHEME)) {
    return undefined;
  }
  const rest = text.slice(SPIFFE_SCHEME.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  if (!isValidTrustDomain(trustDomain)) return undefined;
  if (slash === -1) return { trustDomain, path: '' };
  const path = rest.slice(slash);
  const segments = path.slice(1).split('/');
  for (const segment of segments) {
    if (segment === '.' || segment === '..' || !PATH_SEGMENT.test(segment)) return undefined;
  }
  return { trustDomain, path };
}

/** Parses `spiffe://<td>/ns/<ns>/sa/<sa>`; undefined for any other shape. */
export function parseWorkloadId(text: string): WorkloadIdentity | undefined {
  const id = parseSpiffeId(text);
  if (!id) return undefined;
  const parts = id.path.split('/');
  if (parts.length !== 5 || parts[1] !== 'ns' || parts[3] !== 'sa') return undefined;
  return { trustDomain: id.trustDomain, namespace: parts[2]!, serviceAccount: parts[4]! };
}

/** The URI of a workload identity; throws when a part would not make a valid SPIFFE ID. */
export function workloadId(identity: WorkloadIdentity): string {
  const uri = `${SPIFFE_SCHEME}${identity.trustDomain}/ns/${identity.namespace}/sa/${identity.serviceAccount}`;
  const parsed = parseWorkloadId(uri);
  if (
    !parsed ||
    parsed.namespace !== identity.namespace ||
    parsed.serviceAccount !== identity.serviceAccount ||
    parsed.trustDomain !== identity.trustDomain
  ) {
    throw new Error(
      `cannot build a SPIFFE ID from trust domain "${identity.trustDomain}", namespace "${identity.namespace}" and service account "${identity.serviceAccount}"`,
    );
  }
  return uri;
}

/** Istio's principal form (the ID without the scheme), as AuthorizationPolicy `principals` write it. */
export function principalOf(uri: string): string {
  return uri.startsWith(SPIFFE_SCHEME) ? uri.slice(SPIFFE_SCHEME.length) : uri;
}

/**
 * Accepts either a SPIFFE URI or Istio's principal form and returns the URI; undefined when invalid.
 */
export function normalizeSpiffeId(text: string): string | undefined {
  const uri = text.startsWith(SPIFFE_SCHEME) ? text : `${SPIFFE_SCHEME}${text}`;
  return parseSpiffeId(uri) ? uri : undefined;
}

/**
 * The URI entries of Node's `subjectaltname` / `X509Certificate.subjectAltName` text
 * (`DNS:a, URI:spiffe://x/y`). Node quotes entries holding special characters as JSON strings
 * (CVE-2021-44532), so a comma inside a quoted value does not split it.
 */
export function subjectAltNameEntries(text: string | undefined): { type: string; value: string }[] {
  if (!text) return [];
  const out: { type: string; value: string }[] = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === ',') i++;
    const colon = text.indexOf(':', i);
    if (colon === -1) break;
    const type = text.slice(i, colon);
    i = colon + 1;
    let value: string;
    if (text[i] === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(text.slice(i, j + 1)) as string;
      } catch {
        value = text.slice(i + 1, j);
      }
      i = j + 1;
    } else {
      const comma = text.indexOf(', ', i);
      const end = comma === -1 ? text.length : comma;
      value = text.slice(i, end);
      i = end;
    }
    out.push({ type, value });
  }
  return out;
}

/**
 * The single SPIFFE ID in a certificate's subject alternative names, or undefined when there is
 * none or more than one (the SPIFFE X.509-SVID spec requires exactly one URI SAN).
 */
export function spiffeIdOfSubjectAltName(text: string | undefined): string | undefined {
  const uris = subjectAltNameEntries(text).filter((e) => e.type === 'URI');
  if (uris.length !== 1) return undefined;
  return parseSpiffeId(uris[0]!.value) ? uris[0]!.value : undefined;
}
