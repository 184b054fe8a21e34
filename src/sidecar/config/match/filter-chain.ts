// Filter chain selection with Envoy's algorithm: a lookup tree by destination port, destination IP, server name,
// transport protocol, application protocol, direct source IP, source type, source IP and source port, where each
// level takes the most specific entry that matches and never falls back to a less specific one.

import { asciiLower } from '../ascii.js';
import type {
  CidrRange,
  ConnectionInfo,
  FilterChain,
  FilterChainSelector,
  ListenerConfig,
} from '../model.js';
import { type CompiledCidr, cidrContains, compileCidr, isLoopback, type ParsedIp, parseIp } from './ip.js';

/** Envoy picks the listener's chain, or its default_filter_chain when no chain matches. */
export function selectFilterChain(listener: ListenerConfig, conn: ConnectionInfo): FilterChain | undefined {
  return listener.chainSelector.select(conn) ?? listener.defaultFilterChain;
}

interface ConnView {
  conn: ConnectionInfo;
  destination: ParsedIp | undefined;
  source: ParsedIp | undefined;
  directSource: ParsedIp | undefined;
}

/** One level of the tree: looks up the connection's value and descends, or returns undefined. */
interface Level {
  find(v: ConnView): FilterChain | undefined;
}

// --- CIDR levels (destination, direct source, source) ---

class CidrLevel<T extends Level> implements Level {
  /** Longest prefix first; ranges with the same network share one subtree. */
  readonly #entries: { cidr: CompiledCidr; next: T }[] = [];
  readonly #pick: (v: ConnView) => ParsedIp | undefined;
  readonly #make: () => T;

  constructor(pick: (v: ConnView) => ParsedIp | undefined, make: () => T) {
    this.#pick = pick;
    this.#make = make;
  }

  /** The subtrees a chain with these ranges belongs to (none listed = every address). */
  branches(ranges: readonly CidrRange[]): T[] {
    const cidrs = ranges.length > 0 ? ranges.map((r) => compileCidr(r.address, r.prefixLen)!) : CATCH_ALL;
    return cidrs.map((c) => {
      let e = this.#entries.find((x) => x.cidr.key === c.key);
      if (!e) {
        e = { cidr: c, next: this.#make() };
        this.#entries.push(e);
        this.#entries.sort((a, b) => b.cidr.prefixLen - a.cidr.prefixLen);
      }
      return e.next;
    });
  }

  find(v: ConnView): FilterChain | undefined {
    const ip = this.#pick(v);
    if (!ip) return undefined;
    for (const e of this.#entries) if (cidrContains(e.cidr, ip)) return e.next.find(v);
    return undefined;
  }
}

const CATCH_ALL = [compileCidr('0.0.0.0', 0)!, compileCidr('::', 0)!];

// --- exact-key levels ---

class KeyLevel<K, T extends Level> implements Level {
  readonly map = new Map<K, T>();
  readonly #make: () => T;
  readonly #lookup: (self: KeyLevel<K, T>, v: ConnView) => T | undefined;

  constructor(make: () => T, lookup: (self: KeyLevel<K, T>, v: ConnView) => T | undefined) {
    this.#make = make;
    this.#lookup = lookup;
  }

  branch(key: K): T {
    let next = this.map.get(key);
    if (!next) {
      next = this.#make();
      this.map.set(key, next);
    }
    return next;
  }

  find(v: ConnView): FilterChain | undefined {
    return this.#lookup(this, v)?.find(v);
  }
}

class SourcePortLevel implements Level {
  readonly map = new Map<number, FilterChain>();

  find(v: ConnView): FilterChain | undefined {
    return this.map.get(v.conn.sourcePort) ?? this.map.get(0);
  }
}

type SourceIpLevel = CidrLevel<SourcePortLevel>;
type SourceTypeLevel = KeyLevel<string, SourceIpLevel>;
type DirectSourceLevel = CidrLevel<SourceTypeLevel>;
type AlpnLevel = KeyLevel<string, DirectSourceLevel>;
type TransportLevel = KeyLevel<string, AlpnLevel>;
type ServerNameLevel = KeyLevel<string, TransportLevel>;
type DestinationIpLevel = CidrLevel<ServerNameLevel>;

const sourceIp = (): SourceIpLevel =>
  new CidrLevel(
    (v) => v.source,
    () => new SourcePortLevel(),
  );

const sourceType = (): SourceTypeLevel =>
  new KeyLevel(sourceIp, (self, v) => {
    const local = self.map.get('SAME_IP_OR_LOOPBACK');
    const external = self.map.get('EXTERNAL');
    if (local || external) {
      const isLocal = isLocalConnection(v);
      if (isLocal && local) return local;
      if (!isLocal && external) return external;
    }
    return self.map.get('ANY');
  });

const directSource = (): DirectSourceLevel => new CidrLevel((v) => v.directSource, sourceType);

const alpn = (): AlpnLevel =>
  new KeyLevel(directSource, (self, v) => {
    for (const p of v.conn.applicationProtocols ?? []) {
      const next = self.map.get(p);
      if (next) return next;
    }
    return self.map.get('');
  });

const transport = (): TransportLevel =>
  new KeyLevel(alpn, (self, v) => self.map.get(v.conn.transportProtocol ?? 'raw_buffer') ?? self.map.get(''));

const serverName = (): ServerNameLevel =>
  new KeyLevel(transport, (self, v) => {
    const name = v.conn.serverName ? asciiLower(v.conn.serverName) : '';
    if (name) {
      const exact = self.map.get(name);
      if (exact) return exact;
      // `*.example.com` is stored as `.example.com`; try every parent domain, most specific first.
      let dot = name.indexOf('.', 1);
      while (dot !== -1 && dot < name.length - 1) {
        const wild = self.map.get(name.slice(dot));
        if (wild) return wild;
        dot = name.indexOf('.', dot + 1);
      }
    }
    return self.map.get('');
  });

const destinationIp = (): DestinationIpLevel => new CidrLevel((v) => v.destination, serverName);

/** Envoy's isSameIpOrLoopback: the peer is a loopback address or the connection's own address. */
function isLocalConnection(v: ConnView): boolean {
  const s = v.source;
  if (!s) return false;
  if (isLoopback(s)) return true;
  const d = v.destination;
  return d !== undefined && d.family === s.family && d.value === s.value;
}

export interface FilterChainProblem {
  /** Index in `filter_chains`. */
  index: number;
  message: string;
}

/**
 * Builds the lookup tree for a listener's chains; a chain whose criteria collide with an earlier chain's
 * (Envoy: "multiple filter chains with the same matching rules") is reported and left out.
 */
export function compileFilterChains(
  chains: readonly FilterChain[],
  report: (p: FilterChainProblem) => void = () => {},
): FilterChainSelector {
  const ports = new Map<number, DestinationIpLevel>();
  chains.forEach((chain, index) => {
    const m = chain.match;
    const port = m.destinationPort ?? 0;
    let dest = ports.get(port);
    if (!dest) {
      dest = destinationIp();
      ports.set(port, dest);
    }
    const names =
      m.serverNames.length > 0 ? m.serverNames.map((n) => (n.startsWith('*.') ? n.slice(1) : n)) : [''];
    const alpns = m.applicationProtocols.length > 0 ? m.applicationProtocols : [''];
    const sourcePorts = m.sourcePorts.length > 0 ? m.sourcePorts : [0];
    let collided: number | undefined;
    for (const d of dest.branches(m.prefixRanges)) {
      for (const name of names) {
        const t = d.branch(name).branch(m.transportProtocol ?? '');
        for (const a of alpns) {
          for (const ds of t.branch(a).branches(m.directSourcePrefixRanges)) {
            for (const s of ds.branch(m.sourceType).branches(m.sourcePrefixRanges)) {
              for (const sp of sourcePorts) {
                const existing = s.map.get(sp);
                if (existing && existing !== chain) collided ??= chains.indexOf(existing);
                else s.map.set(sp, chain);
              }
            }
          }
        }
      }
    }
    if (collided !== undefined) {
      const other = chains[collided]!;
      const named = other.name !== `filter_chains[${collided}]` ? ` ("${other.name}")` : '';
      report({
        index,
        message: `same filter_chain_match as filter_chains[${collided}]${named}; Envoy refuses duplicate matches`,
      });
    }
  });
  return {
    select(conn) {
      const destination = parseIp(conn.destinationIp);
      const source = parseIp(conn.sourceIp);
      const view: ConnView = {
        conn,
        destination,
        source,
        directSource: conn.directSourceIp !== undefined ? parseIp(conn.directSourceIp) : source,
      };
      const exact = ports.get(conn.destinationPort);
      // A port with its own chains never falls back to the port-less ones (Envoy: use the default chain).
      if (exact) return exact.find(view);
      return ports.get(0)?.find(view);
    },
  };
}
