// x-forwarded-for as Envoy reads it: the trusted client address, whether the request is internal, what to append.

import { isIP } from 'node:net';

/**
 * Envoy's `isInternalAddress`: RFC 1918 and RFC 4193 space, plus the loopback address itself (127.0.0.1 and
 * ::1, not the whole 127/8). IPv4-mapped IPv6 addresses are judged by their IPv4 part.
 */
export function isInternalAddress(address: string): boolean {
  let a = address.trim();
  if (a.startsWith('::ffff:') && a.includes('.')) a = a.slice(7);
  const family = isIP(a);
  if (family === 4) {
    const dot1 = a.indexOf('.');
    const first = Number(a.slice(0, dot1));
    const second = Number(a.slice(dot1 + 1, a.indexOf('.', dot1 + 1)));
    return (
      first === 10 ||
      (first === 192 && second === 168) ||
      (first === 172 && second >= 16 && second <= 31) ||
      a === '127.0.0.1'
    );
  }
  if (family === 6) {
    if (a === '::1') return true;
    const head = a.slice(0, 2).toLowerCase();
    return head === 'fd' || head === 'fc';
  }
  return false;
}

/** The addresses of an XFF value, trimmed, right-most last. */
export function xffAddresses(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    for (const part of v.split(',')) {
      const t = part.trim();
      if (t !== '') out.push(t);
    }
  }
  return out;
}

export interface ForwardedFacts {
  /** Envoy's trusted client address (without port). */
  clientAddress: string;
  /** Envoy's internal-origin judgement (x-envoy-internal). */
  internal: boolean;
  /** The XFF value to send on, or undefined to leave the header as it came. */
  xff: string | undefined;
}

/**
 * Envoy's rules (HCM headers doc, x-forwarded-for): with `use_remote_address` the connection's peer is the
 * client and is appended to XFF; the request is internal iff it carried no XFF and the peer is internal.
 * Without it XFF is left alone, the client is the (N+1)th address from the right (N trusted hops), and the
 * request is internal iff XFF holds exactly one address and that one is internal.
 */
export function forwardedFacts(opts: {
  xff: readonly string[];
  remoteAddress: string;
  useRemoteAddress: boolean;
  trustedHops: number;
}): ForwardedFacts {
  const { xff, remoteAddress, useRemoteAddress, trustedHops } = opts;
  if (xff.length === 0) {
    return {
      clientAddress: remoteAddress,
      internal: useRemoteAddress ? isInternalAddress(remoteAddress) : false,
      xff: useRemoteAddress ? remoteAddress : undefined,
    };
  }
  const list = xffAddresses(xff);
  if (useRemoteAddress) {
    const client =
      trustedHops > 0 && list.length >= trustedHops ? list[list.length - trustedHops]! : remoteAddress;
    return { clientAddress: client, internal: false, xff: `${xff.join(', ')}, ${remoteAddress}` };
  }
  const index = list.length - 1 - trustedHops;
  const client = index >= 0 ? list[index]! : remoteAddress;
  return {
    clientAddress: client,
    internal: list.length === 1 && isInternalAddress(list[0]!),
    xff: undefined,
  };
}
