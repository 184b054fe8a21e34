// The service graph from observed traffic: workload and service nodes, edges with rate, errors, p99 and mTLS.

import { eq, type LabelMatcher } from './matchers.js';
import { EDGE_KEY, type GoldenSignals, groupedSignals, REQUESTS, type WindowOptions } from './signals.js';
import { groupKey, type MetricsSource } from './source.js';

export type NodeKind = 'workload' | 'service' | 'unknown';

export interface GraphNode {
  id: string;
  kind: NodeKind;
  name: string;
  namespace: string;
  /** Workloads: canonical service and revision (Istio's app and version). */
  app?: string;
  version?: string;
}

export interface GraphEdge {
  source: string;
  target: string;
  /** `http`, `grpc` or `tcp`. */
  protocol: string;
  requestRate: number;
  errorRate: number;
  rate4xx: number;
  rate5xx: number;
  p99?: number;
  /** Share of the edge's traffic the destination saw over mutual TLS, 0–100; undefined without destination telemetry. */
  mtlsPercent?: number;
  mtls: boolean;
  /** TCP edges: bytes per second sent by the source. */
  tcpBytesPerSecond?: number;
  reporter: 'destination' | 'source';
}

export interface ServiceGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  windowMs: number;
  atMs: number;
}

const TCP_SENT = 'istio_tcp_sent_bytes_total';

function workloadNode(name: string, ns: string, app?: string, version?: string): GraphNode {
  if (!name || name === 'unknown')
    return { id: 'unknown', kind: 'unknown', name: 'unknown', namespace: 'unknown' };
  const node: GraphNode = { id: `workload:${ns}/${name}`, kind: 'workload', name, namespace: ns };
  if (app && app !== 'unknown') node.app = app;
  if (version && version !== 'unknown' && version !== 'latest') node.version = version;
  return node;
}

function serviceNode(host: string, name: string, ns: string): GraphNode {
  return {
    id: `service:${host}`,
    kind: 'service',
    name: name && name !== 'unknown' ? name : host,
    namespace: ns,
  };
}

interface Acc {
  signals: GoldenSignals[];
  protocol: Set<string>;
  mtls: number;
  tcp: number;
  reporter: 'destination' | 'source';
}

const SOURCE_SIDE = [
  'source_workload',
  'source_workload_namespace',
  'source_canonical_service',
  'source_canonical_revision',
];
const SERVICE_SIDE = ['destination_service', 'destination_service_name', 'destination_service_namespace'];
const DEST_SIDE = [
  'destination_workload',
  'destination_workload_namespace',
  'destination_canonical_service',
  'destination_canonical_revision',
];

/**
 * Builds the graph the way Kiali's versioned-app graph with service nodes does: each source workload points
 * to the service it called, and each service points to the workloads that served it. Each level is its own
 * grouped query, so an edge's p99 is the quantile of exactly that edge's requests.
 */
export async function buildServiceGraph(
  source: MetricsSource,
  opts: WindowOptions = {},
): Promise<ServiceGraph> {
  const windowMs = opts.windowMs ?? 60_000;
  const atMs = opts.atMs ?? Date.now();
  const nsMatchers: LabelMatcher[] = opts.namespace
    ? [eq('destination_service_namespace', opts.namespace)]
    : [];
  const levels = [
    [...SOURCE_SIDE, ...SERVICE_SIDE, 'request_protocol'],
    [...SERVICE_SIDE, ...DEST_SIDE, 'request_protocol'],
  ];
  const mtlsQuery = (by: string[]) =>
    source.sumRate(
      {
        metric: REQUESTS,
        matchers: [
          eq('reporter', 'destination'),
          eq('connection_security_policy', 'mutual_tls'),
          ...nsMatchers,
        ],
        rangeMs: windowMs,
        by,
      },
      atMs,
    );
  const [toService, toWorkload, mtlsToService, mtlsToWorkload, tcp] = await Promise.all([
    groupedSignals(source, levels[0]!, { windowMs, atMs, matchers: nsMatchers }),
    groupedSignals(source, levels[1]!, { windowMs, atMs, matchers: nsMatchers }),
    mtlsQuery(levels[0]!),
    mtlsQuery(levels[1]!),
    source.sumRate(
      {
        metric: TCP_SENT,
        matchers: [eq('reporter', 'source'), ...nsMatchers],
        rangeMs: windowMs,
        by: [...EDGE_KEY],
      },
      atMs,
    ),
  ]);
  const nodes = new Map<string, GraphNode>();
  const accs = new Map<string, Acc & { source: string; target: string }>();
  const acc = (src: GraphNode, dst: GraphNode, reporter: Acc['reporter']) => {
    nodes.set(src.id, src);
    nodes.set(dst.id, dst);
    const key = `${src.id}\u0000${dst.id}`;
    let a = accs.get(key);
    if (!a) {
      a = { source: src.id, target: dst.id, signals: [], protocol: new Set(), mtls: 0, tcp: 0, reporter };
      accs.set(key, a);
    }
    if (reporter === 'destination') a.reporter = 'destination';
    return a;
  };
  const src = (l: Record<string, string>) =>
    workloadNode(
      l.source_workload!,
      l.source_workload_namespace!,
      l.source_canonical_service,
      l.source_canonical_revision,
    );
  const svc = (l: Record<string, string>) =>
    serviceNode(l.destination_service!, l.destination_service_name!, l.destination_service_namespace!);
  const dst = (l: Record<string, string>) =>
    workloadNode(
      l.destination_workload!,
      l.destination_workload_namespace!,
      l.destination_canonical_service,
      l.destination_canonical_revision,
    );
  const level = (
    rows: typeof toService,
    mtls: typeof mtlsToService,
    by: string[],
    ends: (l: Record<string, string>) => [GraphNode, GraphNode],
  ) => {
    const mtlsByKey = new Map(mtls.map((s) => [groupKey(s.labels, by), s.value]));
    for (const e of rows) {
      const [from, to] = ends(e.labels);
      if (to.kind === 'unknown') continue;
      const a = acc(from, to, e.signals.reporter);
      a.protocol.add(e.labels.request_protocol || 'http');
      a.signals.push(e.signals);
      a.mtls += mtlsByKey.get(groupKey(e.labels, by)) ?? 0;
    }
  };
  level(toService, mtlsToService, levels[0]!, (l) => [src(l), svc(l)]);
  level(toWorkload, mtlsToWorkload, levels[1]!, (l) => [svc(l), dst(l)]);
  for (const t of tcp) {
    const a1 = acc(src(t.labels), svc(t.labels), 'source');
    a1.protocol.add('tcp');
    a1.tcp += t.value;
    const d = dst(t.labels);
    if (d.kind !== 'unknown') {
      const a2 = acc(svc(t.labels), d, 'source');
      a2.protocol.add('tcp');
      a2.tcp += t.value;
    }
  }
  const out: GraphEdge[] = [];
  for (const a of accs.values()) {
    const rate = a.signals.reduce((s, x) => s + x.requestRate, 0);
    const r4 = a.signals.reduce((s, x) => s + x.rate4xx, 0);
    const r5 = a.signals.reduce((s, x) => s + x.rate5xx, 0);
    // One group per edge unless it carried several protocols; then the slowest protocol's p99 bounds it.
    const p99s = a.signals.map((x) => x.p99).filter((x): x is number => x !== undefined);
    const protocol = a.protocol.has('grpc') ? 'grpc' : a.protocol.has('http') ? 'http' : 'tcp';
    const edge: GraphEdge = {
      source: a.source,
      target: a.target,
      protocol,
      requestRate: rate,
      rate4xx: r4,
      rate5xx: r5,
      errorRate: rate > 0 ? (r4 + r5) / rate : 0,
      mtls: a.mtls > 0,
      reporter: a.reporter,
    };
    if (p99s.length) edge.p99 = Math.max(...p99s);
    if (a.reporter === 'destination' && rate > 0) edge.mtlsPercent = Math.min(100, (100 * a.mtls) / rate);
    if (a.tcp > 0) edge.tcpBytesPerSecond = a.tcp;
    out.push(edge);
  }
  out.sort((x, y) => (x.source + x.target < y.source + y.target ? -1 : 1));
  return {
    nodes: [...nodes.values()].sort((x, y) => (x.id < y.id ? -1 : 1)),
    edges: out,
    windowMs,
    atMs,
  };
}

const q = (s: string) => JSON.stringify(s);

/** Graphviz dot: services as ellipses, workloads as boxes labelled app/version, edges with rps, errors, p99. */
export function graphToDot(g: ServiceGraph): string {
  const lines = ['digraph mesh {', '  rankdir=LR;', '  node [fontname="Helvetica"];'];
  for (const n of g.nodes) {
    const label =
      n.kind === 'workload'
        ? `${n.app ?? n.name}${n.version ? ` ${n.version}` : ''}\\n${n.namespace}`
        : n.name;
    const shape = n.kind === 'service' ? 'ellipse' : n.kind === 'workload' ? 'box' : 'diamond';
    lines.push(`  ${q(n.id)} [label=${q(label).replace(/\\\\n/g, '\\n')}, shape=${shape}];`);
  }
  for (const e of g.edges) {
    const parts =
      e.protocol === 'tcp' && e.tcpBytesPerSecond !== undefined
        ? [`${Math.round(e.tcpBytesPerSecond)} B/s`]
        : [`${e.requestRate.toFixed(2)} rps`, `${(e.errorRate * 100).toFixed(1)}% err`];
    if (e.p99 !== undefined) parts.push(`p99 ${Math.round(e.p99)}ms`);
    if (e.mtls) parts.push('mTLS');
    const color = e.errorRate > 0.05 ? 'red' : e.errorRate > 0 ? 'orange' : 'darkgreen';
    lines.push(`  ${q(e.source)} -> ${q(e.target)} [label=${q(parts.join(' '))}, color=${color}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
