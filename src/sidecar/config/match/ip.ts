// IP addresses and CIDR ranges as numbers, for filter chain matching and original-destination lookup.

import { isIPv4, isIPv6 } from 'node:net';

export type ParsedIp = { family: 4; value: number } | { family: 6; value: bigint };

/**
 * Parses an IPv4 or IPv6 literal (an IPv6 zone is dropped). IPv4-mapped IPv6 (`::ffff:10.0.0.1`, what a
 * dual-stack Node socket reports for IPv4 peers) is read as the IPv4 address it carries.
 */
export function parseIp(text: string): ParsedIp | undefined {
  const zone = text.indexOf('%');
  const s = zone === -1 ? text : text.slice(0, zone);
  if (isIPv4(s)) return { family: 4, value: v4(s) };
  if (!isIPv6(s)) return undefined;
  const value = v6(s);
  if (value >> 32n === 0xffffn) return { family: 4, value: Number(value & 0xffffffffn) };
  return { family: 6, value };
}

function v4(s: string): number {
  let n = 0;
  for (const part of s.split('.')) n = n * 256 + Number(part);
  return n;
}

function v6(s: string): bigint {
  let text = s;
  // An embedded IPv4 tail becomes two groups.
  const dot = text.lastIndexOf('.');
  if (dot !== -1) {
    const colon = text.lastIndexOf(':');
    const tail = v4(text.slice(colon + 1));
    text = `${text.slice(0, colon + 1)}${(tail >>> 16).toString(16)}:${(tail & 0xffff).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const h = head ? head.split(':') : [];
  const r = rest ? rest.split(':') : [];
  const groups =
    rest === undefined ? h : [...h, ...new Array<string>(8 - h.length - r.length).fill('0'), ...r];
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(Number.parseInt(g, 16));
  return n;
}

/** The canonical text of an address: dotted IPv4, RFC 5952 IPv6. */
export function formatIp(ip: ParsedIp): string {
  if (ip.family === 4) {
    const n = ip.value;
    return `${Math.floor(n / 16777216) % 256}.${Math.floor(n / 65536) % 256}.${Math.floor(n / 256) % 256}.${n % 256}`;
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** `addr:port`, IPv6 in brackets, address canonical; the key listeners are looked up by. */
export function addressKey(ip: ParsedIp, port: number): string {
  return ip.family === 4 ? `${formatIp(ip)}:${port}` : `[${formatIp(ip)}]:${port}`;
}

export function isAnyAddress(ip: ParsedIp): boolean {
  return ip.family === 4 ? ip.value === 0 : ip.value === 0n;
}

export function isLoopback(ip: ParsedIp): boolean {
  return ip.family === 4 ? Math.floor(ip.value / 16777216) === 127 : ip.value === 1n;
}

/** A CIDR range ready to test addresses against. */
export interface CompiledCidr {
  family: 4 | 6;
  prefixLen: number;
  /** The network address (host bits cleared). */
  base: number | bigint;
  /** Canonical `addr/len`, the key for grouping equal ranges. */
  key: string;
}

export function compileCidr(address: string, prefixLen: number): CompiledCidr | undefined {
  const ip = parseIp(address);
  if (!ip) return undefined;
  // An IPv4-mapped range keeps its IPv4 meaning: ::ffff:10.0.0.0/104 is 10.0.0.0/8.
  const mapped = ip.family === 4 && address.includes(':');
  const len = mapped ? prefixLen - 96 : prefixLen;
  const max = ip.family === 4 ? 32 : 128;
  if (!Number.isInteger(len) || len < 0 || len > max) return undefined;
  if (ip.family === 4) {
    const base = len === 0 ? 0 : ip.value - (ip.value % 2 ** (32 - len));
    return { family: 4, prefixLen: len, base, key: `${formatIp({ family: 4, value: base })}/${len}` };
  }
  const shift = BigInt(128 - len);
  const base = len === 0 ? 0n : (ip.value >> shift) << shift;
  return { family: 6, prefixLen: len, base, key: `${formatIp({ family: 6, value: base })}/${len}` };
}

export function cidrContains(c: CompiledCidr, ip: ParsedIp): boolean {
  if (c.family !== ip.family) return false;
  if (c.prefixLen === 0) return true;
  if (ip.family === 4) {
    const v = ip.value;
    return v - (v % 2 ** (32 - c.prefixLen)) === c.base;
  }
  const shift = BigInt(128 - c.prefixLen);
  return (ip.value >> shift) << shift === c.base;
}
