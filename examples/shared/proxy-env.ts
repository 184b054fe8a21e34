// Chooses the explicit proxy for an outbound URL from HTTP_PROXY / HTTPS_PROXY / NO_PROXY, the way curl reads them.

import { isIPv4 } from 'node:net';

/** The environment variables consulted; process.env in production, a literal object in tests. */
export type ProxyEnv = Readonly<Record<string, string | undefined>>;

/**
 * The proxy a request to `target` should go through, or undefined to connect directly.
 * http:// URLs use http_proxy, https:// URLs use https_proxy (tunnelled with CONNECT); the lowercase
 * name wins over the uppercase one, as in curl and Go. NO_PROXY lists hosts that bypass the proxy.
 */
export function proxyFor(target: URL, env: ProxyEnv = process.env): URL | undefined {
  const name = target.protocol === 'https:' ? 'https_proxy' : target.protocol === 'http:' ? 'http_proxy' : '';
  if (name === '') return undefined;
  const raw = envValue(env, name);
  if (!raw) return undefined;
  if (bypassesProxy(target, envValue(env, 'no_proxy') ?? '')) return undefined;
  return parseProxyUrl(raw);
}

/** `proxy:3128` and `http://proxy:3128/` both mean an HTTP proxy at proxy:3128. */
export function parseProxyUrl(raw: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  const url = new URL(withScheme);
  if (url.protocol !== 'http:') {
    throw new Error(`unsupported proxy "${raw}": only http:// proxies are supported`);
  }
  return url;
}

/** True when NO_PROXY (comma- or space-separated hosts, domains, `*`, IPv4 CIDRs, optional `:port`) covers the target. */
export function bypassesProxy(target: URL, noProxy: string): boolean {
  const host = stripBrackets(target.hostname.toLowerCase());
  const port = effectivePort(target);
  for (const rawEntry of noProxy.split(/[\s,]+/)) {
    const entry = rawEntry.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const { name, entryPort } = splitEntryPort(entry);
    if (entryPort !== undefined && entryPort !== port) continue;
    if (name.includes('/')) {
      if (isIPv4(host) && inIPv4Cidr(host, name)) return true;
      continue;
    }
    const domain = name.replace(/^\*?\./, '');
    if (host === domain || host.endsWith(`.${domain}`)) return true;
  }
  return false;
}

function envValue(env: ProxyEnv, lowerName: string): string | undefined {
  const value = env[lowerName] ?? env[lowerName.toUpperCase()];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function effectivePort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function splitEntryPort(entry: string): { name: string; entryPort: number | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) {
    return { name: bracketed[1]!, entryPort: bracketed[2] ? Number(bracketed[2]) : undefined };
  }
  // A bare IPv6 address has several colons and no port.
  const colons = entry.split(':').length - 1;
  if (colons === 1) {
    const [name, port] = entry.split(':');
    if (/^\d+$/.test(port!)) return { name: name!, entryPort: Number(port) };
  }
  return { name: entry, entryPort: undefined };
}

function inIPv4Cidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!base || !isIPv4(base) || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (ipv4ToInt(ip) & mask) >>> 0 === (ipv4ToInt(base) & mask) >>> 0;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => ((acc << 8) | Number(octet)) >>> 0, 0);
}
