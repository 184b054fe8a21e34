// The API's graph as drawable elements: labels with rate, errors and p99, classes for health, kind and mTLS.

import type { GraphResponse, Health } from '../../controlplane/api/types.js';
import { formatBytes, formatMs, formatPercent, formatRate } from './format.js';
import { layeredLayout } from './graph-layout.js';

export interface NodeElement {
  group: 'nodes';
  data: { id: string; label: string; kind: string; health: Health; namespace: string };
  position: { x: number; y: number };
  classes: string;
}

export interface EdgeElement {
  group: 'edges';
  data: {
    id: string;
    source: string;
    target: string;
    label: string;
    health: Health;
    mtls: boolean;
    requestRate: number;
    width: number;
  };
  classes: string;
}

export function nodeLabel(n: GraphResponse['nodes'][number]): string {
  if (n.kind === 'workload') return n.version ? `${n.app ?? n.name}\n${n.version}` : n.name;
  return n.name;
}

/** `10.0/s · 5.0% err · p99 475ms`; TCP edges show bytes per second; idle edges no label. */
export function edgeLabel(e: GraphResponse['edges'][number]): string {
  if (e.protocol === 'tcp' && e.tcpBytesPerSecond !== undefined)
    return `${formatBytes(e.tcpBytesPerSecond)}/s`;
  if (!(e.requestRate > 0)) return '';
  const parts = [formatRate(e.requestRate)];
  if (e.errorRate > 0) parts.push(`${formatPercent(e.errorRate)} err`);
  if (e.p99 !== undefined) parts.push(`p99 ${formatMs(e.p99)}`);
  return parts.join(' · ');
}

/** Busier edges draw thicker, on a log scale so one hot edge does not dwarf the rest. */
export function edgeWidth(rps: number): number {
  return Math.min(6, 1.25 + Math.log2(1 + Math.max(0, rps)) * 0.8);
}

export function graphElements(g: GraphResponse): (NodeElement | EdgeElement)[] {
  const positions = layeredLayout(
    g.nodes.map((n) => n.id),
    g.edges,
  );
  const nodes = g.nodes.map(
    (n): NodeElement => ({
      group: 'nodes',
      data: { id: n.id, label: nodeLabel(n), kind: n.kind, health: n.health, namespace: n.namespace },
      position: positions.get(n.id) ?? { x: 0, y: 0 },
      classes: `kind-${n.kind} health-${n.health}`,
    }),
  );
  const edges = g.edges.map(
    (e): EdgeElement => ({
      group: 'edges',
      data: {
        id: e.id,
        source: e.source,
        target: e.target,
        label: edgeLabel(e),
        health: e.health,
        mtls: e.mtls,
        requestRate: e.requestRate,
        width: edgeWidth(e.requestRate),
      },
      classes: `health-${e.health}${e.mtls ? ' mtls' : ''}`,
    }),
  );
  return [...nodes, ...edges];
}
