// The graph as the dashboard draws it: health per node and edge, and the service-level fold of workloads.

import type { GraphEdge, ServiceGraph } from '../../telemetry/store/graph.js';
import { healthOf } from './health.js';
import type { GraphEdgeView, GraphNodeView, GraphResponse } from './types.js';

function edgeView(e: GraphEdge): GraphEdgeView {
  const v: GraphEdgeView = {
    id: `${e.source}->${e.target}`,
    source: e.source,
    target: e.target,
    protocol: e.protocol,
    requestRate: e.requestRate,
    rate4xx: e.rate4xx,
    rate5xx: e.rate5xx,
    errorRate: e.errorRate,
    mtls: e.mtls,
    reporter: e.reporter,
    health: e.protocol === 'tcp' && e.requestRate === 0 ? 'healthy' : healthOf(e),
  };
  if (e.p99 !== undefined) v.p99 = e.p99;
  if (e.mtlsPercent !== undefined) v.mtlsPercent = e.mtlsPercent;
  if (e.tcpBytesPerSecond !== undefined) v.tcpBytesPerSecond = e.tcpBytesPerSecond;
  return v;
}

function withInbound(
  nodes: Omit<GraphNodeView, 'requestRate' | 'errorRate' | 'health'>[],
  edges: GraphEdgeView[],
) {
  return nodes.map((n): GraphNodeView => {
    let rate = 0;
    let r4 = 0;
    let r5 = 0;
    for (const e of edges) {
      if (e.target !== n.id) continue;
      rate += e.requestRate;
      r4 += e.rate4xx;
      r5 += e.rate5xx;
    }
    return {
      ...n,
      requestRate: rate,
      errorRate: rate > 0 ? (r4 + r5) / rate : 0,
      health: healthOf({ requestRate: rate, rate4xx: r4, rate5xx: r5 }),
    };
  });
}

/** Workload graph (Kiali's versioned-app graph with service nodes): telemetry's graph plus health. */
export function workloadGraph(g: ServiceGraph): GraphResponse {
  const edges = g.edges.map(edgeView);
  return { by: 'workload', windowMs: g.windowMs, atMs: g.atMs, nodes: withInbound(g.nodes, edges), edges };
}

/**
 * Service graph: each workload folds into the service that was observed sending it traffic (the busiest one
 * when several did), else the service named like its app in its namespace, else an `app` node. Edges
 * between folded nodes are summed; p99 is the largest of the folded edges' p99s (an upper bound, since
 * quantiles do not add).
 */
export function serviceGraph(g: ServiceGraph): GraphResponse {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const servedBy = new Map<string, { service: string; rate: number }>();
  for (const e of g.edges) {
    const from = byId.get(e.source);
    const to = byId.get(e.target);
    if (from?.kind !== 'service' || to?.kind !== 'workload') continue;
    const best = servedBy.get(to.id);
    if (!best || e.requestRate > best.rate) servedBy.set(to.id, { service: from.id, rate: e.requestRate });
  }
  const serviceByName = new Map(
    g.nodes.filter((n) => n.kind === 'service').map((n) => [`${n.namespace}/${n.name}`, n.id]),
  );
  const folded = new Map<string, Omit<GraphNodeView, 'requestRate' | 'errorRate' | 'health'>>();
  const target = new Map<string, string>();
  for (const n of g.nodes) {
    let id = n.id;
    if (n.kind === 'workload') {
      id =
        servedBy.get(n.id)?.service ??
        serviceByName.get(`${n.namespace}/${n.app ?? n.name}`) ??
        `app:${n.namespace}/${n.app ?? n.name}`;
    }
    target.set(n.id, id);
    let f = folded.get(id);
    if (!f) {
      const base = id === n.id ? n : byId.get(id);
      f = base
        ? { id, kind: base.kind, name: base.name, namespace: base.namespace }
        : { id, kind: 'app', name: n.app ?? n.name, namespace: n.namespace };
      folded.set(id, f);
    }
    if (n.kind === 'workload') {
      f.workloads ??= [];
      f.workloads.push(n.name);
    }
  }
  const sums = new Map<string, { edges: GraphEdge[]; source: string; target: string }>();
  for (const e of g.edges) {
    const s = target.get(e.source) ?? e.source;
    const t = target.get(e.target) ?? e.target;
    if (s === t) continue;
    const key = `${s}->${t}`;
    let acc = sums.get(key);
    if (!acc) {
      acc = { edges: [], source: s, target: t };
      sums.set(key, acc);
    }
    acc.edges.push(e);
  }
  const edges: GraphEdgeView[] = [];
  for (const { edges: group, source, target: dest } of sums.values()) {
    const sum = (f: (e: GraphEdge) => number) => group.reduce((s, e) => s + f(e), 0);
    const rate = sum((e) => e.requestRate);
    const r4 = sum((e) => e.rate4xx);
    const r5 = sum((e) => e.rate5xx);
    const protocols = new Set(group.map((e) => e.protocol));
    const merged: GraphEdge = {
      source,
      target: dest,
      protocol: protocols.has('grpc') ? 'grpc' : protocols.has('http') ? 'http' : 'tcp',
      requestRate: rate,
      rate4xx: r4,
      rate5xx: r5,
      errorRate: rate > 0 ? (r4 + r5) / rate : 0,
      mtls: group.some((e) => e.mtls),
      reporter: group.some((e) => e.reporter === 'destination') ? 'destination' : 'source',
    };
    const p99s = group.map((e) => e.p99).filter((p): p is number => p !== undefined);
    if (p99s.length) merged.p99 = Math.max(...p99s);
    const measured = group.filter((e) => e.mtlsPercent !== undefined);
    const measuredRate = measured.reduce((s, e) => s + e.requestRate, 0);
    if (measuredRate > 0) {
      merged.mtlsPercent = measured.reduce((s, e) => s + e.mtlsPercent! * e.requestRate, 0) / measuredRate;
    }
    const tcp = sum((e) => e.tcpBytesPerSecond ?? 0);
    if (tcp > 0) merged.tcpBytesPerSecond = tcp;
    edges.push(edgeView(merged));
  }
  edges.sort((a, b) => (a.id < b.id ? -1 : 1));
  const nodes = withInbound(
    [...folded.values()].sort((a, b) => (a.id < b.id ? -1 : 1)),
    edges,
  );
  return { by: 'service', windowMs: g.windowMs, atMs: g.atMs, nodes, edges };
}
