// Header edits of route config levels applied to a request or response, in Envoy's order and with its actions.

import type {
  HeaderOps,
  RouteEntry,
  RouteTable,
  VirtualHostConfig,
  WeightedClusterChoice,
} from '../model.js';

/** The few operations header editing needs; a transport adapts its own header map to this. */
export interface MutableHeaders {
  has(name: string): boolean;
  /** Replaces every value of the header. */
  set(name: string, value: string): void;
  /** Adds one more value (a repeated header). */
  append(name: string, value: string): void;
  delete(name: string): void;
}

/** Removes, then adds, as Envoy's HeaderParser does within one config level. */
export function applyHeaderOps(headers: MutableHeaders, ops: HeaderOps): void {
  for (const name of ops.remove) headers.delete(name);
  for (const m of ops.add) {
    if (m.value === '' && !m.keepEmpty) continue;
    switch (m.action) {
      case 'append':
        headers.append(m.key, m.value);
        break;
      case 'overwrite':
        headers.set(m.key, m.value);
        break;
      case 'addIfAbsent':
        if (!headers.has(m.key)) headers.append(m.key, m.value);
        break;
      case 'overwriteIfExists':
        if (headers.has(m.key)) headers.set(m.key, m.value);
        break;
    }
  }
}

/**
 * The levels that edit a request's (or response's) headers, in the order Envoy applies them: the chosen
 * weighted cluster's, the route's, the virtual host's, then the route configuration's — so with Envoy's
 * default (most_specific_header_mutations_wins false) the least specific level has the last word.
 */
export function headerOpsInOrder(
  side: 'request' | 'response',
  levels: { table: RouteTable; vhost: VirtualHostConfig; route: RouteEntry; cluster?: WeightedClusterChoice },
): HeaderOps[] {
  const key = side === 'request' ? 'requestHeaders' : 'responseHeaders';
  const out: HeaderOps[] = [];
  if (levels.cluster) out.push(levels.cluster[key]);
  out.push(levels.route[key], levels.vhost[key], levels.table[key]);
  return out;
}
