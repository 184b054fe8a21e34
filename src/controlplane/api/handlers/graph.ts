// /api/v1/graph: the observed service graph by service or by workload, as JSON or Graphviz dot.

import { type GraphEdge, type GraphNode, graphToDot } from '../../../telemetry/store/graph.js';
import type { HandlerDeps } from '../deps.js';
import { serviceGraph, workloadGraph } from '../graph-view.js';
import { durationParam, enumParam } from '../params.js';
import type { Router } from '../router.js';
import type { GraphResponse } from '../types.js';

/** Back to telemetry's graph shape for its dot renderer; `app` nodes draw as workloads (boxes). */
function toDot(g: GraphResponse): string {
  const nodes = g.nodes.map((n): GraphNode => {
    const node: GraphNode = {
      id: n.id,
      kind: n.kind === 'app' ? 'workload' : n.kind,
      name: n.name,
      namespace: n.namespace,
    };
    if (n.app) node.app = n.app;
    if (n.version) node.version = n.version;
    return node;
  });
  const edges = g.edges.map(({ id: _id, health: _health, ...e }): GraphEdge => e);
  return graphToDot({ nodes, edges, windowMs: g.windowMs, atMs: g.atMs });
}

export function registerGraphRoutes(router: Router, deps: HandlerDeps): void {
  router.get('/api/v1/graph', async ({ url, res }) => {
    const q = url.searchParams;
    const by = enumParam(q, 'by', ['service', 'workload'] as const, 'workload');
    const format = enumParam(q, 'format', ['json', 'dot'] as const, 'json');
    const opts: { windowMs: number; atMs: number; namespace?: string } = {
      windowMs: durationParam(q, 'window', { default: 60_000, min: 1000, max: 24 * 3_600_000 }),
      atMs: deps.clock.now(),
    };
    const ns = q.get('namespace');
    if (ns) opts.namespace = ns;
    const raw = await deps.telemetry.queries.graph(opts);
    const graph = by === 'service' ? serviceGraph(raw) : workloadGraph(raw);
    if (format === 'json') return graph;
    res.writeHead(200, { 'content-type': 'text/vnd.graphviz; charset=utf-8', 'cache-control': 'no-store' });
    res.end(toDot(graph));
    return undefined;
  });
}
