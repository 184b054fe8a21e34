// IP addresses for authorization: allocation-free parsing, CIDR predicates, and the client address from XFF.

import { TrellisError } from '../../shared/errors.js';
import type { CidrRange } from '../config/model.js';

// Parsing writes into one scratch buffer: evaluation is synchronous, so nothing else can use it meanwhile.
const scratch = new Uint8Array(16);
const groups = new Uint16Array(8);

function parseV4(s: string, start: number, end: number, out: Uint8Array, at: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 : s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 3) return false;
      out[at + part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      // inet_pton refuses leading zeros: `010.0.0.1` must not read as 10.0.0.1 in one place and 8.0.0.1 in another.
      if (digits === 1 && value === 0) return false;
      value = value * 10 + (c - 48);
      if (value > 255 || ++digits > 3) return false;
    } else {
      return false;
    }
  }
  return part === 4;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function parseV6(s: string, start: number, end: number, out: Uint8Array): boolean {
  let count = 0;
  let gap = -1;
  let i = start;
  if (s.charCodeAt(i) === 58) {
    if (s.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
    if (i === end) {
      out.fill(0);
      return true;
    }
  }
  while (i < end) {
    if (count === 8) return false;
    let value = 0;
    let digits = 0;
    const groupStart = i;
    while (i < end) {
      const d = hexDigit(s.charCodeAt(i));
      if (d < 0) break;
      value = (value << 4) | d;
      if (++digits > 4) return false;
      i++;
    }
    if (i < end && s.charCodeAt(i) === 46) {
      // An embedded IPv4 address ends the text and fills the last two groups.
      if (count > 6 || !parseV4(s, groupStart, end, scratch, 12)) return false;
      groups[count++] = (scratch[12]! << 8) | scratch[13]!;
      groups[count++] = (scratch[14]! << 8) | scratch[15]!;
      i = end;
      break;
    }
    if (digits === 0) return false;
    groups[count++] = value;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = count;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return false;
    }
  }
  if (gap < 0 && count !== 8) return false;
  if (gap >= 0 && count > 7) return false;
  const zeros = 8 - count;
  let g = 0;
  for (let k = 0; k < 8; k++) {
    let v: number;
    if (gap >= 0 && k >= gap && k < gap + zeros) v = 0;
    else v = groups[g++]!;
    out[k * 2] = v >> 8;
    out[k * 2 + 1] = v & 0xff;
  }
  return true;
}

/**
 * Parses an address into `out` and returns its family (4 or 6), or 0 when it is not an address. IPv4-mapped
 * IPv6 addresses (`::ffff:10.0.0.1`, what a dual-stack socket reports) come out as IPv4, as Envoy converts them,
 * so an IPv4 CIDR cannot be bypassed by the mapped spelling. Brackets and a zone (`%eth0`) are ignored.
 */
export function parseIpInto(text: string, out: Uint8Array): 0 | 4 | 6 {
  let start = 0;
  let end = text.length;
  if (end === 0) return 0;
  if (text.charCodeAt(0) === 91 && text.charCodeAt(end - 1) === 93) {
    start = 1;
    end -= 1;
  }
  const zone = text.indexOf('%', start);
  if (zone >= 0 && zone < end) end = zone;
  if (text.indexOf(':', start) < 0) return parseV4(text, start, end, out, 0) ? 4 : 0;
  if (!parseV6(text, start, end, out)) return 0;
  for (let k = 0; k < 10; k++) if (out[k] !== 0) return 6;
  if (out[10] !== 0xff || out[11] !== 0xff) return 6;
  out[0] = out[12]!;
  out[1] = out[13]!;
  out[2] = out[14]!;
  out[3] = out[15]!;
  return 4;
}

/** True when `text` is an IPv4 or IPv6 address. */
export function isIpAddress(text: string): boolean {
  return parseIpInto(text, scratch) !== 0;
}

export type IpPredicate = (ip: string) => boolean;

/**
 * Compiles a CIDR range (Envoy's `CidrRange`) into a predicate over address strings. Bits beyond the prefix
 * are ignored (10.1.2.3/16 is 10.1.0.0/16), as in Envoy. Invalid ranges are config errors.
 */
export function compileCidr(range: CidrRange, where: string): IpPredicate {
  const bytes = new Uint8Array(16);
  const family = parseIpInto(range.address, bytes);
  if (family === 0) {
    throw new TrellisError('RBAC_CONFIG', `${where}: "${range.address}" is not an IP address`);
  }
  let prefixLen = range.prefixLen;
  // A mapped IPv4 range (`::ffff:10.0.0.0/104`) was converted to IPv4 above; its prefix counts from bit 96.
  if (family === 4 && range.address.includes(':')) prefixLen -= 96;
  const bits = family === 4 ? 32 : 128;
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > bits) {
    throw new TrellisError(
      'RBAC_CONFIG',
      `${where}: prefix length ${range.prefixLen} is out of range for "${range.address}"`,
    );
  }
  const fullBytes = prefixLen >> 3;
  const rest = prefixLen & 7;
  const mask = rest === 0 ? 0 : (0xff << (8 - rest)) & 0xff;
  const last = rest === 0 ? 0 : bytes[fullBytes]! & mask;
  return (ip) => {
    if (parseIpInto(ip, scratch) !== family) return false;
    for (let k = 0; k < fullBytes; k++) if (scratch[k] !== bytes[k]) return false;
    return rest === 0 || (scratch[fullBytes]! & mask) === last;
  };
}

export interface XffOptions {
  /** The socket's peer address. */
  directRemoteIp: string;
  /** Every `x-forwarded-for` value, in arrival order (repeated headers are one list, RFC 9110). */
  xff: readonly string[] | undefined;
  /** HCM `use_remote_address`: the sidecar is the edge and the socket peer is the client unless hops are trusted. */
  useRemoteAddress: boolean;
  /** HCM `xff_num_trusted_hops`. */
  xffNumTrustedHops: number;
}

/** The entry `skip` places from the right of XFF, when it is an IP address. */
function addressFromXff(xff: readonly string[] | undefined, skip: number): string | undefined {
  if (!xff || xff.length === 0) return undefined;
  const entries = (xff.length === 1 ? xff[0]! : xff.join(',')).split(',');
  const index = entries.length - 1 - skip;
  if (index < 0) return undefined;
  const candidate = entries[index]!.trim();
  return isIpAddress(candidate) ? candidate : undefined;
}

/**
 * The client address RBAC's `remote_ip` reads, as Envoy's connection manager computes it: with
 * `use_remote_address`, the socket peer unless N trusted hops are configured (then the Nth address from the
 * right of XFF); without it, the (N+1)th address from the right. An absent or malformed entry falls back to
 * the socket peer, so a forged XFF can only name an address the trusted proxies actually appended.
 */
export function remoteAddressFromXff(opts: XffOptions): string {
  const hops = Math.max(0, opts.xffNumTrustedHops);
  const fromXff = opts.useRemoteAddress
    ? hops > 0
      ? addressFromXff(opts.xff, hops - 1)
      : undefined
    : addressFromXff(opts.xff, hops);
  return fromXff ?? opts.directRemoteIp;
}
