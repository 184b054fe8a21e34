// Header edits from route config levels (and filters) applied to a request or response in Envoy's order.

import type {
  HeaderMutation,
  HeaderOps,
  RouteEntry,
  RouteTable,
  VirtualHostConfig,
  WeightedClusterChoice,
} from '../../../config/model.js';
import type { HeaderToAdd } from '../../../ratelimit/headers.js';
import type { HeaderList } from '../../headers.js';
import type { PipelineStream } from '../stream.js';

/** Host and pseudo-headers are not editable this way (Envoy refuses them too: use the rewrites). */
function editable(name: string): boolean {
  return name.length > 0 && name.charCodeAt(0) !== 58 /* : */ && name !== 'host';
}

type Formatter = (s: PipelineStream) => string;

const formatters = new WeakMap<HeaderMutation, Formatter | string>();

/** Envoy's dynamic header values (`%DOWNSTREAM_REMOTE_ADDRESS%`...), compiled once per mutation. */
function mutationValue(m: HeaderMutation, stream: PipelineStream | undefined): string {
  if (!m.value.includes('%')) return m.value;
  let f = formatters.get(m);
  if (f === undefined) {
    f = compileValue(m.value);
    formatters.set(m, f);
  }
  return typeof f === 'string' ? f : stream === undefined ? m.value : f(stream);
}

const VARIABLES: Record<string, Formatter> = {
  DOWNSTREAM_REMOTE_ADDRESS: (s) => s.conn.remoteAddressAndPort,
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (s) => s.conn.remoteAddress,
  DOWNSTREAM_LOCAL_ADDRESS: (s) => s.conn.localAddressAndPort,
  DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: (s) => s.conn.downstream.destination.address,
  DOWNSTREAM_LOCAL_PORT: (s) => String(s.conn.downstream.destination.port),
  DOWNSTREAM_PEER_URI_SAN: (s) => s.conn.peerPrincipal ?? '',
  DOWNSTREAM_LOCAL_URI_SAN: (s) => s.conn.localPrincipal ?? '',
  UPSTREAM_REMOTE_ADDRESS: (s) => s.upstreamHost ?? '',
  REQUESTED_SERVER_NAME: (s) => s.conn.downstream.tls?.sni ?? '',
  PROTOCOL: (s) => (s.request.version === '2' ? 'HTTP/2' : `HTTP/${s.request.version}`),
};

function compileValue(value: string): Formatter | string {
  const parts: (string | Formatter)[] = [];
  let literal = '';
  let dynamic = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c !== '%') {
      literal += c;
      continue;
    }
    if (value[i + 1] === '%') {
      literal += '%';
      i++;
      continue;
    }
    const end = value.indexOf('%', i + 1);
    const name = end < 0 ? '' : value.slice(i + 1, end);
    const req = /^REQ\(([^)]+)\)$/.exec(name);
    const variable = req
      ? (s: PipelineStream) => s.request.headers.getJoined(req[1]!.toLowerCase()) ?? ''
      : VARIABLES[name];
    if (variable === undefined) {
      // An unknown variable stays as written, as Envoy would have refused the config.
      literal += c;
      continue;
    }
    if (literal) parts.push(literal);
    literal = '';
    parts.push(variable);
    dynamic = true;
    i = end;
  }
  if (literal) parts.push(literal);
  if (!dynamic) return parts.join('');
  return (s) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(s);
    return out;
  };
}

/** Removes, then adds, as Envoy's HeaderParser does within one level. Values that are not valid are skipped. */
export function applyHeaderOps(headers: HeaderList, ops: HeaderOps, stream?: PipelineStream): void {
  const remove = ops.remove;
  for (let i = 0; i < remove.length; i++) if (editable(remove[i]!)) headers.remove(remove[i]!);
  const add = ops.add;
  for (let i = 0; i < add.length; i++) {
    const m = add[i]!;
    if (!editable(m.key)) continue;
    const value = mutationValue(m, stream);
    try {
      switch (m.action) {
        case 'append':
          headers.add(m.key, value);
          break;
        case 'overwrite':
          headers.set(m.key, value);
          break;
        case 'addIfAbsent':
          if (!headers.has(m.key)) headers.add(m.key, value);
          break;
        case 'overwriteIfExists':
          if (headers.has(m.key)) headers.set(m.key, value);
          break;
      }
    } catch {
      // A dynamic value that is not a valid field value (a header copied from elsewhere) is dropped.
    }
  }
}

/** Header additions a filter carries (rate limit decisions) with their append actions. */
export function applyHeadersToAdd(headers: HeaderList, list: readonly HeaderToAdd[]): void {
  for (let i = 0; i < list.length; i++) {
    const h = list[i]!;
    if (!editable(h.name)) continue;
    try {
      if (h.action === 'APPEND_IF_EXISTS_OR_ADD') headers.add(h.name, h.value);
      else if (h.action === 'ADD_IF_ABSENT') {
        if (!headers.has(h.name)) headers.add(h.name, h.value);
      } else headers.set(h.name, h.value);
    } catch {
      // an invalid value from a rate limit service is dropped rather than failing the request
    }
  }
}

const isEmpty = (ops: HeaderOps) => ops.add.length === 0 && ops.remove.length === 0;

/**
 * Envoy's order ("weighted cluster level headers, route level headers, virtual host level headers and finally
 * global level headers"): the least specific level runs last, so its overwrite has the last word.
 */
export function applyRouteHeaderOps(
  side: 'request' | 'response',
  headers: HeaderList,
  levels: {
    table: RouteTable | undefined;
    vhost: VirtualHostConfig | undefined;
    route: RouteEntry | undefined;
    cluster?: WeightedClusterChoice | undefined;
  },
  stream?: PipelineStream,
): void {
  const key = side === 'request' ? 'requestHeaders' : 'responseHeaders';
  const { table, vhost, route, cluster } = levels;
  if (cluster && !isEmpty(cluster[key])) applyHeaderOps(headers, cluster[key], stream);
  if (route && !isEmpty(route[key])) applyHeaderOps(headers, route[key], stream);
  if (vhost && !isEmpty(vhost[key])) applyHeaderOps(headers, vhost[key], stream);
  if (table && !isEmpty(table[key])) applyHeaderOps(headers, table[key], stream);
}
