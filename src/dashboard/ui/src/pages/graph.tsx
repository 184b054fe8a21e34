// The live service graph (cytoscape): by service or by workload and version, coloured by health, edges
// labelled with rate, errors and p99, a lock on mTLS edges, and a side panel for what was clicked.

import cytoscape from 'cytoscape';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { GraphEdgeView, GraphNodeView, GraphResponse } from '../../../../controlplane/api/types.js';
import { formatMs, formatPercent, formatRate, shortHost } from '../../../logic/format.js';
import { graphElements } from '../../../logic/graph-elements.js';
import { api } from '../api.js';
import { Badge, Card, ErrorNote, HEALTH_TONE, HealthDot, Loading } from '../components/ui.js';
import { useLive } from '../live.js';
import { useRange } from '../prefs.js';
import { href, type Route, setQuery } from '../route.js';

const COLORS = { healthy: '#2f9e44', degraded: '#f08c00', failing: '#e03131', idle: '#adb5bd' } as const;
const EDGE_COLORS = { healthy: '#9aa5b1', degraded: '#f08c00', failing: '#e03131', idle: '#ced4da' } as const;

const STYLE: cytoscape.StylesheetJson = [
  {
    selector: 'node',
    style: {
      'background-color': '#ffffff',
      'border-width': 3,
      'border-color': COLORS.idle,
      label: 'data(label)',
      'font-family': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      'font-size': 13,
      color: '#1f2933',
      'text-valign': 'bottom',
      'text-margin-y': 6,
      'text-wrap': 'wrap',
      'text-max-width': '140px',
      width: 36,
      height: 36,
    },
  },
  { selector: 'node.kind-service', style: { shape: 'round-triangle', width: 40, height: 36 } },
  { selector: 'node.kind-workload', style: { shape: 'ellipse' } },
  { selector: 'node.kind-app', style: { shape: 'round-rectangle' } },
  { selector: 'node.kind-unknown', style: { shape: 'diamond', 'border-style': 'dashed' } },
  ...(['healthy', 'degraded', 'failing'] as const).map((h) => ({
    selector: `node.health-${h}`,
    style: { 'border-color': COLORS[h] },
  })),
  { selector: 'node.health-failing', style: { 'background-color': '#fff5f5' } },
  {
    selector: 'edge',
    style: {
      width: 'data(width)',
      'curve-style': 'bezier',
      'line-color': EDGE_COLORS.healthy,
      'target-arrow-color': EDGE_COLORS.healthy,
      'target-arrow-shape': 'triangle',
      'arrow-scale': 0.9,
      label: 'data(label)',
      'font-family': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      'font-size': 11,
      color: '#4b5563',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.9,
      'text-background-padding': '2px',
      'text-margin-y': -10,
      'text-rotation': 'autorotate',
    },
  },
  ...(['degraded', 'failing', 'idle'] as const).map((h) => ({
    selector: `edge.health-${h}`,
    style: {
      'line-color': EDGE_COLORS[h],
      'target-arrow-color': EDGE_COLORS[h],
      color: h === 'idle' ? '#4b5563' : COLORS[h],
    },
  })),
  {
    selector: ':selected',
    style: { 'overlay-color': '#3b5bdb', 'overlay-opacity': 0.12, 'overlay-padding': 6 },
  },
];

const LOCK_SVG =
  '<svg viewBox="0 0 16 16" width="11" height="11" aria-hidden="true"><rect x="3" y="7" width="10" height="7" rx="1.5" fill="currentColor"/><path d="M5 7V5a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" stroke-width="1.8"/></svg>';

/** What the browser tests read: the drawn model, not pixels. */
interface GraphModel {
  by: string;
  nodes: { id: string; kind: string; label: string; health: string }[];
  edges: {
    id: string;
    source: string;
    target: string;
    label: string;
    mtls: boolean;
    health: string;
    requestRate: number;
  }[];
  locks: number;
}

declare global {
  interface Window {
    __trellisGraph?: GraphModel;
    __trellisCy?: cytoscape.Core;
  }
}

/** Fit the whole graph, but never blow a small one up past a comfortable reading size. */
function fitGraph(cy: cytoscape.Core): void {
  cy.fit(undefined, 48);
  if (cy.zoom() > 1.2) {
    cy.zoom(1.2);
    cy.center();
  }
}

type Selection = { type: 'node' | 'edge'; id: string } | undefined;

function nodeLink(n: GraphNodeView): string | undefined {
  if (n.kind === 'service') return href(['services', n.id.slice('service:'.length)]);
  if (n.kind === 'workload') return href(['workloads', n.namespace, n.name]);
  return undefined;
}

function EdgeLine(props: { e: GraphEdgeView; other: GraphNodeView | undefined; dir: 'in' | 'out' }) {
  return (
    <li>
      <HealthDot health={props.e.health} /> {props.dir === 'in' ? 'from' : 'to'}{' '}
      <strong>{props.other?.name ?? '?'}</strong>{' '}
      <span class="subtle">
        {formatRate(props.e.requestRate)} · {formatPercent(props.e.errorRate)} err · p99{' '}
        {formatMs(props.e.p99)}
        {props.e.mtls ? ' · mTLS' : ''}
      </span>
    </li>
  );
}

const HEALTH_HINT =
  "Health follows Kiali's defaults: any 5xx or 10% 4xx is degraded; over 10% 5xx or 20% 4xx is failing.";

/** One line under the toolbar, so the canvas keeps the full width of the page. */
function Legend() {
  const stroke = { fill: '#fff', stroke: '#6b7280', 'stroke-width': 2 } as const;
  return (
    <ul class="legend-strip" title={HEALTH_HINT}>
      <li>
        <svg class="shape" viewBox="0 0 14 14" aria-hidden="true">
          <circle cx="7" cy="7" r="5.5" {...stroke} />
        </svg>
        workload
      </li>
      <li>
        <svg class="shape" viewBox="0 0 14 14" aria-hidden="true">
          <path d="M7 1.8 12.6 12H1.4Z" stroke-linejoin="round" {...stroke} />
        </svg>
        service
      </li>
      <li>
        <svg class="shape" viewBox="0 0 14 14" aria-hidden="true">
          <rect x="1.5" y="1.5" width="11" height="11" rx="2.5" {...stroke} />
        </svg>
        app
      </li>
      <li>
        <HealthDot health="healthy" /> healthy
      </li>
      <li>
        <HealthDot health="degraded" /> degraded
      </li>
      <li>
        <HealthDot health="failing" /> failing
      </li>
      <li>
        <HealthDot health="idle" /> no inbound traffic
      </li>
      <li>
        <span class="lock-sample" dangerouslySetInnerHTML={{ __html: LOCK_SVG }} /> mTLS
      </li>
      <li class="hint">edges: rate · errors · p99</li>
    </ul>
  );
}

function SidePanel(props: { graph: GraphResponse; selection: Selection; onClose: () => void }) {
  const { graph, selection } = props;
  if (!selection) return null;
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  if (selection.type === 'node') {
    const n = byId.get(selection.id);
    // The selected element left the graph (no traffic in the window any more).
    if (!n) return null;
    const link = nodeLink(n);
    const inbound = graph.edges.filter((e) => e.target === n.id);
    const outbound = graph.edges.filter((e) => e.source === n.id);
    return (
      <aside class="side" data-testid="graph-side">
        <button type="button" class="close" onClick={props.onClose} aria-label="Close">
          ×
        </button>
        <h3>
          <HealthDot health={n.health} /> {n.name}
        </h3>
        <p class="subtle">
          {n.kind}
          {n.version ? ` · ${n.version}` : ''} · {n.namespace}
        </p>
        <div class="stats stats-small">
          <div>
            <b>{formatRate(n.requestRate)}</b> in
          </div>
          <div>
            <b>{formatPercent(n.errorRate)}</b> errors
          </div>
          <div>
            <Badge tone={HEALTH_TONE[n.health]}>{n.health}</Badge>
          </div>
        </div>
        {n.workloads && <p class="hint">Workloads: {n.workloads.join(', ')}</p>}
        {inbound.length > 0 && (
          <>
            <h4>Inbound</h4>
            <ul class="edge-list">
              {inbound.map((e) => (
                <EdgeLine key={e.id} e={e} other={byId.get(e.source)} dir="in" />
              ))}
            </ul>
          </>
        )}
        {outbound.length > 0 && (
          <>
            <h4>Outbound</h4>
            <ul class="edge-list">
              {outbound.map((e) => (
                <EdgeLine key={e.id} e={e} other={byId.get(e.target)} dir="out" />
              ))}
            </ul>
          </>
        )}
        {link && (
          <a class="button" href={link} data-testid="drilldown">
            Open {n.kind} page
          </a>
        )}
      </aside>
    );
  }
  const e = graph.edges.find((x) => x.id === selection.id);
  if (!e) return null;
  const from = byId.get(e.source);
  const to = byId.get(e.target);
  const target = to?.kind === 'service' ? to.id.slice('service:'.length) : undefined;
  return (
    <aside class="side" data-testid="graph-side">
      <button type="button" class="close" onClick={props.onClose} aria-label="Close">
        ×
      </button>
      <h3>
        <HealthDot health={e.health} /> {from?.name} → {to?.name}
      </h3>
      <p class="subtle">
        {e.protocol}
        {e.mtls
          ? ` · mTLS ${e.mtlsPercent !== undefined ? `${Math.round(e.mtlsPercent)}%` : ''}`
          : ' · plaintext'}{' '}
        · reported by {e.reporter}
      </p>
      <table class="kv">
        <tbody>
          <tr>
            <th>Requests</th>
            <td>{formatRate(e.requestRate)}</td>
          </tr>
          <tr>
            <th>4xx</th>
            <td>{formatRate(e.rate4xx)}</td>
          </tr>
          <tr>
            <th>5xx</th>
            <td>{formatRate(e.rate5xx)}</td>
          </tr>
          <tr>
            <th>Error rate</th>
            <td>{formatPercent(e.errorRate)}</td>
          </tr>
          <tr>
            <th>p99</th>
            <td>{formatMs(e.p99)}</td>
          </tr>
        </tbody>
      </table>
      {target && (
        <a class="button" href={href(['services', target])} data-testid="drilldown">
          Open {shortHost(target)} service
        </a>
      )}
      {to && (
        <a
          class="button button-quiet"
          href={href(['traces'], {
            service: `${to.kind === 'service' ? shortHost(to.name) : (to.app ?? to.name)}.${to.namespace}`,
          })}
        >
          Traces
        </a>
      )}
    </aside>
  );
}

export function GraphPage(props: { route: Route }) {
  const by = props.route.query.get('by') === 'service' ? 'service' : 'workload';
  const range = useRange();
  const res = useLive(() => api.graph(by, range.window), ['telemetry'], [by, range.window]);
  const box = useRef<HTMLDivElement>(null);
  const overlay = useRef<HTMLDivElement>(null);
  const cyRef = useRef<cytoscape.Core | undefined>(undefined);
  const [selection, setSelection] = useState<Selection>(undefined);

  useEffect(() => {
    if (!box.current) return;
    const cy = cytoscape({
      container: box.current,
      style: STYLE,
      layout: { name: 'preset' },
      minZoom: 0.2,
      maxZoom: 3,
      boxSelectionEnabled: false,
      autoungrabify: true,
    });
    cyRef.current = cy;
    window.__trellisCy = cy;
    cy.on('tap', 'node', (e) => setSelection({ type: 'node', id: e.target.id() }));
    cy.on('tap', 'edge', (e) => setSelection({ type: 'edge', id: e.target.id() }));
    cy.on('tap', (e) => {
      if (e.target === cy) setSelection(undefined);
    });
    // Locks sit on mTLS edges as HTML over the canvas: no emoji font is needed and they stay crisp.
    let frame = 0;
    const placeLocks = () => {
      frame = 0;
      const layer = overlay.current;
      if (!layer) return;
      const edges = cy.edges('.mtls');
      while (layer.children.length > edges.length) layer.lastChild!.remove();
      while (layer.children.length < edges.length) {
        const el = document.createElement('span');
        el.className = 'lock';
        el.innerHTML = LOCK_SVG;
        layer.appendChild(el);
      }
      edges.forEach((edge, i) => {
        const p = edge.renderedMidpoint();
        const el = layer.children[i] as HTMLElement;
        el.style.transform = `translate(${p.x - 8}px, ${p.y - 8}px)`;
        el.dataset.edge = edge.id();
      });
    };
    cy.on('render', () => {
      if (!frame) frame = requestAnimationFrame(placeLocks);
    });
    return () => {
      if (frame) cancelAnimationFrame(frame);
      cy.destroy();
      cyRef.current = undefined;
      delete window.__trellisCy;
      delete window.__trellisGraph;
    };
  }, []);

  const graph = res.data;
  useEffect(() => {
    const cy = cyRef.current;
    if (!cy || !graph) return;
    const elements = graphElements(graph);
    const ids = new Set(elements.map((e) => e.data.id));
    const before = new Set(cy.elements().map((e) => e.id()));
    const changedShape = elements.length !== before.size || elements.some((e) => !before.has(e.data.id));
    cy.batch(() => {
      cy.elements()
        .filter((e) => !ids.has(e.id()))
        .remove();
      for (const el of elements) {
        const existing = cy.getElementById(el.data.id);
        if (existing.nonempty()) {
          existing.data(el.data);
          existing.classes(el.classes);
          if (el.group === 'nodes') existing.position(el.position);
        } else {
          cy.add(el);
        }
      }
    });
    if (changedShape) {
      cy.resize();
      fitGraph(cy);
    }
    window.__trellisGraph = {
      by: graph.by,
      nodes: cy
        .nodes()
        .map((n) => ({ id: n.id(), kind: n.data('kind'), label: n.data('label'), health: n.data('health') })),
      edges: cy.edges().map((e) => ({
        id: e.id(),
        source: e.data('source'),
        target: e.data('target'),
        label: e.data('label'),
        mtls: e.data('mtls'),
        health: e.data('health'),
        requestRate: e.data('requestRate'),
      })),
      locks: cy.edges('.mtls').length,
    };
  }, [graph]);

  return (
    <div class="graph-page">
      <div class="toolbar">
        <fieldset class="segmented">
          <legend class="sr-only">Group by</legend>
          {(['workload', 'service'] as const).map((b) => (
            <button
              key={b}
              type="button"
              class={by === b ? 'on' : ''}
              aria-pressed={by === b}
              onClick={() => {
                setSelection(undefined);
                setQuery(props.route, { by: b === 'workload' ? undefined : b });
              }}
            >
              {b === 'workload' ? 'Workloads and versions' : 'Services'}
            </button>
          ))}
        </fieldset>
        <span class="hint">
          {graph
            ? `${graph.nodes.length} nodes · ${graph.edges.length} edges · rates over ${graph.windowMs / 1000}s`
            : ''}
        </span>
        <button
          type="button"
          class="button button-quiet"
          onClick={() => cyRef.current && fitGraph(cyRef.current)}
        >
          Fit
        </button>
      </div>
      <Legend />
      <div class="graph-wrap">
        <Card class="graph-card">
          {/* Notes float over the canvas: anything that moved the canvas would leave cytoscape's cached
              position stale, and clicks would land beside the nodes. */}
          <div class="graph-notes">
            {res.error && <ErrorNote error={res.error} />}
            {!graph && !res.error && <Loading />}
            {graph && graph.edges.length === 0 && (
              <div class="note">No traffic observed in the window yet.</div>
            )}
          </div>
          <div
            class="graph-canvas"
            data-testid="graph"
            data-nodes={graph?.nodes.length ?? 0}
            data-edges={graph?.edges.length ?? 0}
          >
            <div ref={box} class="cy" />
            <div ref={overlay} class="locks" />
          </div>
          {graph && <SidePanel graph={graph} selection={selection} onClose={() => setSelection(undefined)} />}
        </Card>
      </div>
    </div>
  );
}
