// Virtual host lookup with Envoy's domain order: exact, longest `*.suffix`, longest `prefix.*`, then `*`.

import { asciiLower } from '../ascii.js';
import type { HeaderOps, RouteTable, VirtualHostConfig } from '../model.js';

/** Wildcard domains grouped by the length of their fixed part, longest first (Envoy's search order). */
type WildcardIndex = { length: number; hosts: Map<string, VirtualHostConfig> }[];

export interface RouteTableInit {
  name: string;
  virtualHosts: readonly VirtualHostConfig[];
  requestHeaders: HeaderOps;
  responseHeaders: HeaderOps;
  /** RouteConfiguration `ignore_port_in_host_matching`. */
  ignorePortInHostMatching: boolean;
}

/** Where the port starts in `host:port` / `[v6]:port`, or -1 (Envoy's HeaderUtility::getPortStart). */
export function portStart(host: string): number {
  const colon = host.lastIndexOf(':');
  if (colon === -1) return -1;
  const bracket = host.lastIndexOf(']');
  if (bracket !== -1 && bracket > colon) return -1;
  // A bare IPv6 literal has several colons and no brackets: no port.
  if (bracket === -1 && host.indexOf(':') !== colon) return -1;
  return colon;
}

/**
 * Precompiles the domain maps. Domains must already be unique across the table (the decoder reports
 * duplicates, as Envoy refuses them); a later duplicate is ignored here.
 */
export class CompiledRouteTable implements RouteTable {
  readonly name: string;
  readonly virtualHosts: readonly VirtualHostConfig[];
  readonly requestHeaders: HeaderOps;
  readonly responseHeaders: HeaderOps;
  readonly #exact = new Map<string, VirtualHostConfig>();
  readonly #suffixes: WildcardIndex = [];
  readonly #prefixes: WildcardIndex = [];
  readonly #default: VirtualHostConfig | undefined;
  readonly #ignorePort: boolean;

  constructor(init: RouteTableInit) {
    this.name = init.name;
    this.virtualHosts = init.virtualHosts;
    this.requestHeaders = init.requestHeaders;
    this.responseHeaders = init.responseHeaders;
    this.#ignorePort = init.ignorePortInHostMatching;
    let fallback: VirtualHostConfig | undefined;
    for (const vh of init.virtualHosts) {
      for (const raw of vh.domains) {
        const d = asciiLower(raw);
        if (d === '*') fallback ??= vh;
        else if (d.startsWith('*')) addWildcard(this.#suffixes, d.slice(1), vh);
        else if (d.endsWith('*')) addWildcard(this.#prefixes, d.slice(0, -1), vh);
        else if (!this.#exact.has(d)) this.#exact.set(d, vh);
      }
    }
    this.#suffixes.sort((a, b) => b.length - a.length);
    this.#prefixes.sort((a, b) => b.length - a.length);
    this.#default = fallback;
  }

  findVirtualHost(authority: string): VirtualHostConfig | undefined {
    let host = asciiLower(authority);
    const port = portStart(host);
    if (this.#ignorePort && port !== -1) return this.#lookup(host.slice(0, port)) ?? this.#default;
    const found = this.#lookup(host);
    if (found) return found;
    // Istio lists every domain with and without the port; a port no domain names (a NodePort, a
    // remapped gateway port) is compared without it rather than falling through to `*`.
    if (port !== -1) {
      host = host.slice(0, port);
      return this.#lookup(host) ?? this.#default;
    }
    return this.#default;
  }

  #lookup(host: string): VirtualHostConfig | undefined {
    if (host === '') return undefined;
    const exact = this.#exact.get(host);
    if (exact) return exact;
    for (const { length, hosts } of this.#suffixes) {
      // A wildcard never matches the empty string: `*.foo.com` does not match `.foo.com`.
      if (length >= host.length) continue;
      const vh = hosts.get(host.slice(host.length - length));
      if (vh) return vh;
    }
    for (const { length, hosts } of this.#prefixes) {
      if (length >= host.length) continue;
      const vh = hosts.get(host.slice(0, length));
      if (vh) return vh;
    }
    return undefined;
  }
}

function addWildcard(index: WildcardIndex, fixed: string, vh: VirtualHostConfig): void {
  let group = index.find((g) => g.length === fixed.length);
  if (!group) {
    group = { length: fixed.length, hosts: new Map() };
    index.push(group);
  }
  if (!group.hosts.has(fixed)) group.hosts.set(fixed, vh);
}
