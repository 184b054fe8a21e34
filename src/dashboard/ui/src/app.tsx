// The app shell: navigation, the mesh header (name, live state, time range) and the page for the route.

import type { ComponentChildren } from 'preact';
import { api } from './api.js';
import { lazyPage } from './lazy.js';
import { useLive, useLiveState } from './live.js';
import { ConfigPage } from './pages/config.js';
import { RequestsPage } from './pages/requests.js';
import { ServicePage } from './pages/service.js';
import { ServicesPage } from './pages/services.js';
import { TracePage } from './pages/trace.js';
import { TracesPage } from './pages/traces.js';
import { WorkloadPage } from './pages/workload.js';
import { WorkloadsPage } from './pages/workloads.js';
import { RANGES, setRange, useRange } from './prefs.js';
import { href, type Route, useRoute } from './route.js';

const GraphPage = lazyPage(() => import('./pages/graph.js').then((m) => m.GraphPage));

const NAV = [
  { id: 'graph', label: 'Graph' },
  { id: 'services', label: 'Services' },
  { id: 'workloads', label: 'Workloads' },
  { id: 'traces', label: 'Traces' },
  { id: 'requests', label: 'Requests' },
  { id: 'config', label: 'Config' },
] as const;

function page(route: Route): ComponentChildren {
  const [section, ...rest] = route.path;
  switch (section ?? 'graph') {
    case 'services':
      return rest[0] ? <ServicePage host={rest[0]} /> : <ServicesPage />;
    case 'workloads':
      return rest[1] ? <WorkloadPage namespace={rest[0]!} name={rest[1]} /> : <WorkloadsPage />;
    case 'traces':
      return rest[0] ? <TracePage id={rest[0]} /> : <TracesPage route={route} />;
    case 'requests':
      return <RequestsPage />;
    case 'config':
      return <ConfigPage route={route} />;
    default:
      return <GraphPage route={route} />;
  }
}

function LiveIndicator() {
  const state = useLiveState();
  const text = state === 'live' ? 'Live' : state === 'connecting' ? 'Reconnecting…' : 'Offline';
  return (
    <span
      class={`live live-${state}`}
      data-testid="live-state"
      title="Updates arrive from the control plane as they happen"
    >
      <span class="live-dot" />
      {text}
    </span>
  );
}

function Header() {
  const status = useLive(api.status, ['status', 'config', 'proxies'], []);
  const range = useRange();
  const s = status.data;
  return (
    <header class="topbar">
      <div class="mesh">
        <span class="mesh-name" data-testid="mesh-name">
          {s?.mesh?.mesh ?? 'mesh'}
        </span>
        {s && (
          <span class="mesh-facts">
            <span data-testid="proxies-synced">
              {s.proxies.synced}/{s.proxies.total} proxies synced
            </span>
            {s.config.errors > 0 && (
              <a class="fact-bad" href={href(['config'], { messages: '1' })}>
                {s.config.errors} config {s.config.errors === 1 ? 'error' : 'errors'}
              </a>
            )}
            {s.mesh?.ingressUrl && (
              <a href={s.mesh.ingressUrl} target="_blank" rel="noreferrer">
                ingress
              </a>
            )}
          </span>
        )}
      </div>
      <div class="topbar-right">
        <label class="range">
          <span>Range</span>
          <select
            value={range.start}
            onChange={(e) => setRange({ ...range, start: (e.target as HTMLSelectElement).value })}
            data-testid="range"
          >
            {RANGES.map((r) => (
              <option key={r.start} value={r.start}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <LiveIndicator />
      </div>
    </header>
  );
}

export function App() {
  const route = useRoute();
  const section = route.path[0] ?? 'graph';
  return (
    <div class="shell">
      <nav class="sidebar">
        <a class="brand" href="#/graph">
          <img src="/favicon.svg" alt="" width="22" height="22" />
          Trellis
        </a>
        {NAV.map((n) => (
          <a key={n.id} href={`#/${n.id}`} class={section === n.id ? 'active' : ''}>
            {n.label}
          </a>
        ))}
      </nav>
      <div class="main">
        <Header />
        <main class="content">{page(route)}</main>
      </div>
    </div>
  );
}
