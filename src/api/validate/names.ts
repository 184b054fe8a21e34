// Name rules shared by every kind: DNS labels and subdomains, hosts with wildcards, IPs, label keys and values.

import { isIP } from 'node:net';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && s.split('.').every(isDns1123Label);
}

/** DNS-1035 labels (Kubernetes Service names): like DNS-1123 labels, but starting with a letter. */
export function isDns1035Label(s: string): boolean {
  return isDns1123Label(s) && /^[a-z]/.test(s);
}

export function isIpAddress(s: string): boolean {
  return isIP(s) !== 0;
}

/** `10.0.0.0/8`, `2001:db8::/32` or a plain address. */
export function cidrError(s: string): string | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return isIpAddress(s) ? undefined : `"${s}" is not a valid IP address or CIDR block`;
  const ip = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  const family = isIP(ip);
  const max = family === 4 ? 32 : 128;
  if (family === 0 || !/^\d{1,3}$/.test(bits) || Number(bits) > max)
    return `"${s}" is not a valid CIDR block`;
  return undefined;
}

function labelsError(domain: string, labels: string[]): string | undefined {
  const tld = labels[labels.length - 1]!;
  if (/^\d+$/.test(tld))
    return `domain name "${domain}" invalid (top level domain "${tld}" cannot be all-numeric)`;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    // A trailing dot (`istio.io.`) is allowed: it makes the name unambiguous.
    if (i === labels.length - 1 && label === '') return undefined;
    if (!isDns1123Label(label)) {
      return `domain name "${domain}" invalid (label "${label}" is not a lowercase DNS label)`;
    }
  }
  return undefined;
}

/** Istio's ValidateFQDN: DNS labels separated by dots (a single label is a short name, also accepted). */
export function fqdnError(name: string): string | undefined {
  if (name.length === 0) return 'empty domain name not allowed';
  if (name.length > 255) return `domain name "${name}" too long (max 255)`;
  return labelsError(name, name.split('.'));
}

/** Istio's ValidateWildcardDomain: an FQDN whose first label may be `*` or `*suffix` (`*.example.com`, `*`). */
export function wildcardDomainError(name: string): string | undefined {
  if (name.length === 0) return 'empty domain name not allowed';
  if (name.length > 255) return `domain name "${name}" too long (max 255)`;
  const dot = name.indexOf('.');
  const first = dot < 0 ? name : name.slice(0, dot);
  const firstOk =
    first === '*' || isDns1123Label(first) || (first.startsWith('*') && isDns1123Label(first.slice(1)));
  if (!firstOk)
    return `domain name "${name}" invalid (label "${first}" is not a lowercase DNS label or wildcard)`;
  return dot < 0 ? undefined : labelsError(name, name.slice(dot + 1).split('.'));
}

/** Kubernetes label key: optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
export function labelKeyError(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || !isDns1123Subdomain(prefix))) {
    return `label key "${key}" has an invalid prefix (must be a lowercase DNS subdomain)`;
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return `label key "${key}" is invalid (at most 63 letters, digits, "-", "_" or ".", starting and ending alphanumeric)`;
  }
  return undefined;
}

export function labelValueError(value: string): string | undefined {
  if (value.length === 0) return undefined;
  if (value.length > 63 || !QUALIFIED_NAME.test(value)) {
    return `label value "${value}" is invalid (at most 63 letters, digits, "-", "_" or ".", starting and ending alphanumeric)`;
  }
  return undefined;
}

/** Istio's protocol names (case-insensitive); an empty protocol means "sniff". */
export const ISTIO_PROTOCOLS = [
  'HTTP',
  'HTTPS',
  'HTTP2',
  'HTTP_PROXY',
  'GRPC',
  'GRPC-WEB',
  'TCP',
  'TLS',
  'UDP',
  'MONGO',
  'REDIS',
  'MYSQL',
] as const;

export function isIstioProtocol(p: string): boolean {
  return (ISTIO_PROTOCOLS as readonly string[]).includes(p.toUpperCase());
}

export function isTlsProtocol(p: string): boolean {
  const u = p.toUpperCase();
  return u === 'HTTPS' || u === 'TLS';
}

export function isHttpProtocolName(p: string): boolean {
  const u = p.toUpperCase();
  return u === 'HTTP' || u === 'HTTP2' || u === 'GRPC' || u === 'GRPC-WEB' || u === 'HTTP_PROXY';
}

/** Istio's host matching: does `a` (possibly `*.x`) cover `b`? */
export function hostCovers(a: string, b: string): boolean {
  if (a === '*' || a === b) return true;
  if (a.startsWith('*')) {
    const suffix = a.slice(1);
    if (b.startsWith('*')) return b.slice(1).endsWith(suffix);
    return b.endsWith(suffix);
  }
  return false;
}

/** Do two host patterns overlap (either covers the other)? */
export function hostsOverlap(a: string, b: string): boolean {
  return hostCovers(a, b) || hostCovers(b, a);
}
