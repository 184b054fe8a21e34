// Listener → ListenerConfig: address, listener filters, filter chains (match, TLS, filters) and the chain selector.

import { TrafficDirection } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import {
  FilterChainMatch_ConnectionSourceType,
  type FilterChainMatch as FilterChainMatchProto,
  FilterChainMatchSchema,
  type FilterChain as FilterChainProto,
  FilterChainSchema,
  ListenerFilterSchema,
} from '../../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { type Listener, ListenerSchema } from '../../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { HttpInspectorSchema } from '../../../xds/gen/envoy/extensions/filters/listener/http_inspector/v3/http_inspector_pb.js';
import { OriginalDstSchema } from '../../../xds/gen/envoy/extensions/filters/listener/original_dst/v3/original_dst_pb.js';
import { TlsInspectorSchema } from '../../../xds/gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import { asciiLower } from '../ascii.js';
import { compileFilterChains } from '../match/filter-chain.js';
import type { CidrRange, FilterChain, FilterChainMatch, ListenerConfig } from '../model.js';
import { cidr, nonNegativeMs, socketAddress } from './common.js';
import { fieldPolicy } from './fields.js';
import { networkFilters } from './network-filters.js';
import { at, type DecodeContext } from './problems.js';
import { transportSocket } from './tls.js';
import { effectiveTypeUrl, requireTyped, typeUrlOf, unpackTyped } from './typed.js';

const LISTENER_FIELDS = fieldPolicy(ListenerSchema, {
  handled: [
    'name',
    'address',
    'filter_chains',
    'use_original_dst',
    'default_filter_chain',
    'per_connection_buffer_limit_bytes',
    'listener_filters',
    'listener_filters_timeout',
    'continue_on_listener_filters_timeout',
    'traffic_direction',
    'api_listener',
    'bind_to_port',
  ],
  // Stats naming and accept-loop tuning of a multi-threaded Envoy; Trellis runs one event loop.
  ignored: [
    'stat_prefix',
    'metadata',
    'drain_type',
    'tcp_backlog_size',
    'connection_balance_config',
    'reuse_port',
    'enable_reuse_port',
    'max_connections_to_accept_per_socket_event',
    'ignore_global_conn_limit',
    'bypass_overload_manager',
  ],
});
const CHAIN_FIELDS = fieldPolicy(FilterChainSchema, {
  handled: ['filter_chain_match', 'filters', 'transport_socket', 'name'],
  ignored: ['metadata', 'transport_socket_connect_timeout'],
});
const MATCH_FIELDS = fieldPolicy(FilterChainMatchSchema, {
  handled: [
    'destination_port',
    'prefix_ranges',
    'direct_source_prefix_ranges',
    'source_type',
    'source_prefix_ranges',
    'source_ports',
    'server_names',
    'transport_protocol',
    'application_protocols',
  ],
});
const LISTENER_FILTER_FIELDS = fieldPolicy(ListenerFilterSchema, { handled: ['name', 'typed_config'] });
const TLS_INSPECTOR_FIELDS = fieldPolicy(TlsInspectorSchema, {
  handled: [],
  ignored: ['enable_ja3_fingerprinting', 'initial_read_buffer_size'],
});

/** Envoy's listener_filters_timeout when unset. */
const DEFAULT_LISTENER_FILTERS_TIMEOUT_MS = 15_000;

export function listenerConfig(ctx: DecodeContext, l: Listener): ListenerConfig {
  LISTENER_FIELDS.check(ctx, l, '');
  if (!l.name) ctx.report('name', 'name is required');
  const base = {
    name: l.name,
    bindToPort: l.bindToPort ?? true,
    useOriginalDst: l.useOriginalDst ?? false,
    direction: direction(l.trafficDirection),
    listenerFiltersTimeoutMs: nonNegativeMs(
      ctx,
      l.listenerFiltersTimeout,
      'listener_filters_timeout',
      DEFAULT_LISTENER_FILTERS_TIMEOUT_MS,
    ),
    continueOnListenerFiltersTimeout: l.continueOnListenerFiltersTimeout,
  } as const;
  if (l.apiListener) {
    // Proxyless gRPC clients consume these; the sidecar never serves them, so their content is not checked.
    return {
      ...base,
      address: { address: '0.0.0.0', port: 0 },
      filterChains: [],
      chainSelector: { select: () => undefined },
      listenerFilters: { originalDst: false, tlsInspector: false, httpInspector: false },
      apiListener: true,
    };
  }
  const address = socketAddress(ctx, l.address, 'address');
  const filterChains = l.filterChains.map((c, i) => filterChain(ctx, c, at('filter_chains', i), i));
  const defaultFilterChain = l.defaultFilterChain
    ? filterChain(ctx, l.defaultFilterChain, 'default_filter_chain', -1)
    : undefined;
  if (filterChains.length === 0 && !defaultFilterChain)
    ctx.report('filter_chains', 'a listener needs at least one filter chain or a default_filter_chain');
  const chainSelector = compileFilterChains(filterChains, (p) =>
    ctx.report(at('filter_chains', p.index), p.message),
  );
  const out: ListenerConfig = {
    ...base,
    address,
    filterChains,
    chainSelector,
    listenerFilters: listenerFilters(ctx, l),
    apiListener: false,
  };
  if (defaultFilterChain) out.defaultFilterChain = defaultFilterChain;
  if (l.perConnectionBufferLimitBytes !== undefined)
    out.perConnectionBufferLimitBytes = l.perConnectionBufferLimitBytes;
  return out;
}

function direction(d: TrafficDirection): ListenerConfig['direction'] {
  return d === TrafficDirection.INBOUND
    ? 'inbound'
    : d === TrafficDirection.OUTBOUND
      ? 'outbound'
      : 'unspecified';
}

function listenerFilters(ctx: DecodeContext, l: Listener): ListenerConfig['listenerFilters'] {
  const out = { originalDst: false, tlsInspector: false, httpInspector: false };
  l.listenerFilters.forEach((f, i) => {
    const p = at('listener_filters', i);
    LISTENER_FILTER_FIELDS.check(ctx, f, p);
    const any = requireTyped(ctx, f.configType, p);
    if (!any) return;
    const type = effectiveTypeUrl(any);
    const tp = at(p, 'typed_config');
    if (type === typeUrlOf(OriginalDstSchema)) {
      if (unpackTyped(ctx, any, OriginalDstSchema, tp)) out.originalDst = true;
    } else if (type === typeUrlOf(TlsInspectorSchema)) {
      const m = unpackTyped(ctx, any, TlsInspectorSchema, tp);
      if (m) {
        TLS_INSPECTOR_FIELDS.check(ctx, m, tp);
        out.tlsInspector = true;
      }
    } else if (type === typeUrlOf(HttpInspectorSchema)) {
      if (unpackTyped(ctx, any, HttpInspectorSchema, tp)) out.httpInspector = true;
    } else {
      ctx.report(p, `unsupported listener filter ${type} ("${f.name}")`);
    }
  });
  return out;
}

function filterChain(ctx: DecodeContext, c: FilterChainProto, path: string, index: number): FilterChain {
  CHAIN_FIELDS.check(ctx, c, path);
  const match = chainMatch(ctx, c.filterChainMatch, at(path, 'filter_chain_match'));
  const { rbac, terminal } = networkFilters(ctx, c.filters, at(path, 'filters'));
  const out: FilterChain = {
    name: c.name || (index >= 0 ? `filter_chains[${index}]` : 'default_filter_chain'),
    match,
    networkFilters: rbac,
    terminal: terminal ?? {
      kind: 'tcp',
      tcp: {
        statPrefix: '',
        clusters: [],
        totalWeight: 0,
        idleTimeoutMs: 0,
        accessLog: [],
        maxConnectAttempts: 1,
      },
    },
  };
  if (c.transportSocket) {
    const ts = transportSocket(ctx, c.transportSocket, at(path, 'transport_socket'), 'downstream');
    if (ts?.kind === 'downstreamTls') out.tls = ts.tls;
  }
  return out;
}

const SOURCE_TYPES: Record<number, FilterChainMatch['sourceType']> = {
  [FilterChainMatch_ConnectionSourceType.ANY]: 'ANY',
  [FilterChainMatch_ConnectionSourceType.SAME_IP_OR_LOOPBACK]: 'SAME_IP_OR_LOOPBACK',
  [FilterChainMatch_ConnectionSourceType.EXTERNAL]: 'EXTERNAL',
};

function chainMatch(
  ctx: DecodeContext,
  m: FilterChainMatchProto | undefined,
  path: string,
): FilterChainMatch {
  if (m) MATCH_FIELDS.check(ctx, m, path);
  const ranges = (list: FilterChainMatchProto['prefixRanges'] | undefined, field: string): CidrRange[] => {
    const out: CidrRange[] = [];
    (list ?? []).forEach((r, i) => {
      const c = cidr(ctx, r, at(at(path, field), i));
      if (c) out.push(c);
    });
    return out;
  };
  const out: FilterChainMatch = {
    prefixRanges: ranges(m?.prefixRanges, 'prefix_ranges'),
    serverNames: (m?.serverNames ?? []).map((n) => asciiLower(n)),
    applicationProtocols: [...(m?.applicationProtocols ?? [])],
    directSourcePrefixRanges: ranges(m?.directSourcePrefixRanges, 'direct_source_prefix_ranges'),
    sourceType: SOURCE_TYPES[m?.sourceType ?? 0] ?? 'ANY',
    sourcePrefixRanges: ranges(m?.sourcePrefixRanges, 'source_prefix_ranges'),
    sourcePorts: [...(m?.sourcePorts ?? [])],
  };
  if (m?.destinationPort !== undefined) {
    if (m.destinationPort < 1 || m.destinationPort > 65535)
      ctx.report(at(path, 'destination_port'), `must be 1-65535, got ${m.destinationPort}`);
    else out.destinationPort = m.destinationPort;
  }
  if (m?.transportProtocol) out.transportProtocol = m.transportProtocol;
  out.serverNames.forEach((n, i) => {
    if (n.includes('*') && !(n.startsWith('*.') && n.indexOf('*', 1) === -1)) {
      ctx.report(at(at(path, 'server_names'), i), `"${n}": only a leading "*." wildcard is supported`);
    }
  });
  return out;
}
