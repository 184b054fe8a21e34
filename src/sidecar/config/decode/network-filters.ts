// A filter chain's network filters: RBAC (zero or more) then one terminal filter, HCM or tcp_proxy.

import type { Any } from '@bufbuild/protobuf/wkt';
import {
  type Filter,
  FilterSchema,
} from '../../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { HttpConnectionManagerSchema } from '../../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import {
  RBACSchema as NetworkRbacSchema,
  RBAC_EnforcementType,
} from '../../../xds/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import {
  TcpProxy_WeightedCluster_ClusterWeightSchema,
  TcpProxySchema,
} from '../../../xds/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import type { FilterChain, NetworkRbacConfig, TcpProxyConfig } from '../model.js';
import { nonNegativeMs } from './common.js';
import { fieldPolicy } from './fields.js';
import { hcmConfig } from './hcm.js';
import { at, type DecodeContext } from './problems.js';
import { rbacRules } from './rbac.js';
import { accessLogs } from './telemetry.js';
import { effectiveTypeUrl, requireTyped, typeUrlOf, unpackTyped } from './typed.js';

const FILTER_FIELDS = fieldPolicy(FilterSchema, { handled: ['name', 'typed_config'] });
const TCP_FIELDS = fieldPolicy(TcpProxySchema, {
  handled: [
    'stat_prefix',
    'cluster',
    'weighted_clusters',
    'idle_timeout',
    'access_log',
    'max_connect_attempts',
    'max_downstream_connection_duration',
  ],
});
const TCP_WEIGHT_FIELDS = fieldPolicy(TcpProxy_WeightedCluster_ClusterWeightSchema, {
  handled: ['name', 'weight'],
});
const RBAC_FIELDS = fieldPolicy(NetworkRbacSchema, {
  handled: ['rules', 'shadow_rules', 'shadow_rules_stat_prefix', 'stat_prefix', 'enforcement_type'],
});

/** Envoy's tcp_proxy idle timeout when unset. */
const DEFAULT_TCP_IDLE_MS = 3_600_000;

export function networkFilters(
  ctx: DecodeContext,
  filters: readonly Filter[],
  path: string,
): { rbac: NetworkRbacConfig[]; terminal: FilterChain['terminal'] | undefined } {
  const rbac: NetworkRbacConfig[] = [];
  let terminal: FilterChain['terminal'] | undefined;
  filters.forEach((f, i) => {
    const p = at(path, i);
    FILTER_FIELDS.check(ctx, f, p);
    const any = requireTyped(ctx, f.configType, p);
    if (!any) return;
    if (terminal) {
      ctx.report(p, `filter "${f.name}" follows the terminal filter; the terminal filter must be last`);
      return;
    }
    const type = effectiveTypeUrl(any);
    const tp = at(p, 'typed_config');
    if (type === typeUrlOf(HttpConnectionManagerSchema)) {
      const m = unpackTyped(ctx, any, HttpConnectionManagerSchema, tp);
      terminal = m ? { kind: 'http', hcm: hcmConfig(ctx, m, tp) } : undefined;
      terminal ??= placeholder();
    } else if (type === typeUrlOf(TcpProxySchema)) {
      const tcp = tcpProxy(ctx, any, tp);
      terminal = tcp ? { kind: 'tcp', tcp } : placeholder();
    } else if (type === typeUrlOf(NetworkRbacSchema)) {
      const r = networkRbac(ctx, any, tp);
      if (r) rbac.push(r);
    } else {
      ctx.report(p, `unsupported network filter ${type}`);
    }
  });
  if (!terminal && filters.length > 0)
    ctx.report(
      path,
      'the last filter must be envoy.filters.network.http_connection_manager or envoy.filters.network.tcp_proxy',
    );
  if (filters.length === 0) ctx.report(path, 'a filter chain needs at least one filter');
  return { rbac, terminal };
}

/** Stands in for a terminal filter that failed to decode, so "missing terminal" is not reported twice. */
function placeholder(): FilterChain['terminal'] {
  return {
    kind: 'tcp',
    tcp: {
      statPrefix: '',
      clusters: [],
      totalWeight: 0,
      idleTimeoutMs: 0,
      accessLog: [],
      maxConnectAttempts: 1,
    },
  };
}

function tcpProxy(ctx: DecodeContext, any: Any, path: string): TcpProxyConfig | undefined {
  const m = unpackTyped(ctx, any, TcpProxySchema, path);
  if (!m) return undefined;
  TCP_FIELDS.check(ctx, m, path);
  if (!m.statPrefix) ctx.report(at(path, 'stat_prefix'), 'stat_prefix is required');
  const clusters: { name: string; weight: number }[] = [];
  const spec = m.clusterSpecifier;
  if (spec.case === 'cluster') {
    if (!spec.value) ctx.report(at(path, 'cluster'), 'cluster name must not be empty');
    clusters.push({ name: spec.value, weight: 1 });
  } else if (spec.case === 'weightedClusters') {
    const p = at(path, 'weighted_clusters.clusters');
    if (spec.value.clusters.length === 0) ctx.report(p, 'at least one cluster is required');
    spec.value.clusters.forEach((c, i) => {
      TCP_WEIGHT_FIELDS.check(ctx, c, at(p, i));
      if (!c.name) ctx.report(at(at(p, i), 'name'), 'cluster name must not be empty');
      if (c.weight < 1) ctx.report(at(at(p, i), 'weight'), 'weight must be at least 1');
      clusters.push({ name: c.name, weight: c.weight });
    });
  } else {
    ctx.report(path, 'cluster or weighted_clusters is required');
  }
  const maxConnectAttempts = m.maxConnectAttempts ?? 1;
  if (maxConnectAttempts < 1) ctx.report(at(path, 'max_connect_attempts'), 'must be at least 1');
  const out: TcpProxyConfig = {
    statPrefix: m.statPrefix,
    clusters,
    totalWeight: clusters.reduce((s, c) => s + c.weight, 0),
    idleTimeoutMs: nonNegativeMs(ctx, m.idleTimeout, at(path, 'idle_timeout'), DEFAULT_TCP_IDLE_MS),
    accessLog: accessLogs(ctx, m.accessLog, at(path, 'access_log')),
    maxConnectAttempts,
  };
  if (m.maxDownstreamConnectionDuration) {
    const d = nonNegativeMs(
      ctx,
      m.maxDownstreamConnectionDuration,
      at(path, 'max_downstream_connection_duration'),
      0,
    );
    if (d > 0) out.maxDownstreamConnectionDurationMs = d;
  }
  return out;
}

function networkRbac(ctx: DecodeContext, any: Any, path: string): NetworkRbacConfig | undefined {
  const m = unpackTyped(ctx, any, NetworkRbacSchema, path);
  if (!m) return undefined;
  RBAC_FIELDS.check(ctx, m, path);
  if (!m.statPrefix) ctx.report(at(path, 'stat_prefix'), 'stat_prefix is required');
  if (m.enforcementType !== RBAC_EnforcementType.ONE_TIME_ON_FIRST_BYTE) {
    ctx.report(at(path, 'enforcement_type'), 'only ONE_TIME_ON_FIRST_BYTE enforcement is supported');
  }
  const out: NetworkRbacConfig = { statPrefix: m.statPrefix, shadowRulesStatPrefix: m.shadowRulesStatPrefix };
  if (m.rules) out.rules = rbacRules(ctx, m.rules, at(path, 'rules'));
  if (m.shadowRules) out.shadowRules = rbacRules(ctx, m.shadowRules, at(path, 'shadow_rules'));
  return out;
}
