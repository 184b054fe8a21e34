// IPv4 CIDR arithmetic for the pod and service ranges: parse, nth address, overlap with the host's routes.

import { TrellisError } from '../shared/errors.js';

export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefixLen: number;
  text: string;
}

export function ipToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new TrellisError('BAD_ADDRESS', `"${ip}" is not an IPv4 address`);
  }
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefixLen: number): number {
  return prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
}

export function parseCidr(text: string): Cidr {
  const [ip, len] = text.split('/');
  const prefixLen = Number(len);
  if (!ip || !Number.isInteger(prefixLen) || prefixLen < 8 || prefixLen > 30) {
    throw new TrellisError('BAD_CIDR', `"${text}" is not an IPv4 CIDR with a prefix length from 8 to 30`);
  }
  const base = (ipToNumber(ip) & mask(prefixLen)) >>> 0;
  return { base, prefixLen, text: `${numberToIp(base)}/${prefixLen}` };
}

/** Usable host addresses (network and broadcast excluded). */
export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefixLen) - 2;
}

/** The nth host address, counting from 1 (the first after the network address). */
export function nthAddress(c: Cidr, n: number): string {
  if (n < 1 || n > cidrSize(c)) {
    throw new TrellisError(
      'CIDR_EXHAUSTED',
      `${c.text} has no address number ${n} (it holds ${cidrSize(c)})`,
    );
  }
  return numberToIp(c.base + n);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const len = Math.min(a.prefixLen, b.prefixLen);
  return (a.base & mask(len)) >>> 0 === (b.base & mask(len)) >>> 0;
}

/**
 * Routes of `ip -o -4 route show table all` that overlap `c` (the default route excluded, host routes
 * included). Returns the offending lines, to quote in the refusal.
 */
export function overlappingRoutes(c: Cidr, ipRouteOutput: string): string[] {
  const out: string[] = [];
  for (const line of ipRouteOutput.split('\n')) {
    const words = line.trim().split(/\s+/);
    let dst = words[0] ?? '';
    if (
      ['unicast', 'local', 'broadcast', 'blackhole', 'unreachable', 'prohibit', 'multicast'].includes(dst)
    ) {
      dst = words[1] ?? '';
    }
    if (!dst || dst === 'default' || !/^\d/.test(dst)) continue;
    let route: Cidr;
    try {
      route = dst.includes('/')
        ? parseCidrLoose(dst)
        : { base: ipToNumber(dst), prefixLen: 32, text: `${dst}/32` };
    } catch {
      continue;
    }
    if (route.prefixLen >= 8 && (route.base >>> 24 === 127 || route.base >>> 24 === 0)) continue;
    if (overlaps(c, route)) out.push(line.trim());
  }
  return out;
}

function parseCidrLoose(text: string): Cidr {
  const [ip, len] = text.split('/');
  const prefixLen = Number(len);
  const base = (ipToNumber(ip!) & mask(prefixLen)) >>> 0;
  return { base, prefixLen, text };
}
