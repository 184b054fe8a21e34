// Renders a StatsStore as Envoy's admin does: `/stats` text, `/stats?format=json`, and `/stats/prometheus`.

import { TrellisError } from '../../shared/errors.js';
import type { Stat } from './stat.js';
import type { StatsStore } from './store.js';

export interface StatsQuery {
  /** Keep stats whose name matches (a partial match, as Envoy's `filter=` regex). */
  filter?: RegExp;
  /** Only stats that were ever written (Envoy's `usedonly`). */
  usedOnly?: boolean;
}

function selected(store: StatsStore, q: StatsQuery): Stat[] {
  const out: Stat[] = [];
  for (const s of store.all()) {
    if (q.usedOnly && !s.used) continue;
    if (q.filter && !q.filter.test(s.name)) continue;
    out.push(s);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `name: value` lines, sorted by name. */
export function renderStatsText(store: StatsStore, q: StatsQuery = {}): string {
  return selected(store, q)
    .map((s) => `${s.name}: ${s.value}\n`)
    .join('');
}

/** `{"stats":[{"name":...,"value":...}]}` like `/stats?format=json`. */
export function renderStatsJson(store: StatsStore, q: StatsQuery = {}): string {
  return JSON.stringify({ stats: selected(store, q).map((s) => ({ name: s.name, value: s.value })) });
}

/** Prometheus exposition grouped by family name, as `/stats/prometheus` prints Envoy's own stats. */
export function renderStatsPrometheus(store: StatsStore, q: StatsQuery = {}): string {
  const families = new Map<string, Stat[]>();
  for (const s of selected(store, q)) {
    let f = families.get(s.promName);
    if (!f) {
      f = [];
      families.set(s.promName, f);
    }
    f.push(s);
  }
  const out: string[] = [];
  for (const name of [...families.keys()].sort()) {
    const stats = families.get(name)!;
    out.push(`# TYPE ${name} ${stats[0]!.kind}\n`);
    for (const s of stats) out.push(`${name}${s.promLabels} ${s.value}\n`);
  }
  return out.join('');
}

export interface StatsResponse {
  status: number;
  contentType: string;
  body: string;
}

/**
 * Answers an admin `/stats` or `/stats/prometheus` request from its URL (`?filter=`, `?format=json`,
 * `?usedonly`), so the sidecar's admin server only has to mount it. `extraPrometheus` is appended to the
 * Prometheus form (the istio_* metrics share that endpoint in Istio).
 */
export function handleStatsRequest(store: StatsStore, url: string, extraPrometheus = ''): StatsResponse {
  const u = new URL(url, 'http://admin');
  const q: StatsQuery = { usedOnly: u.searchParams.has('usedonly') };
  const filter = u.searchParams.get('filter');
  if (filter) {
    try {
      q.filter = new RegExp(filter);
    } catch (e) {
      const err = new TrellisError(
        'TELEMETRY_STATS_FILTER',
        `stats filter "${filter}" is not a valid regex: ${(e as Error).message}`,
      );
      return { status: 400, contentType: 'text/plain', body: `${err.message}\n` };
    }
  }
  if (u.pathname.endsWith('/prometheus') || u.searchParams.get('format') === 'prometheus') {
    return {
      status: 200,
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      body: extraPrometheus + renderStatsPrometheus(store, q),
    };
  }
  if (u.searchParams.get('format') === 'json') {
    return { status: 200, contentType: 'application/json', body: renderStatsJson(store, q) };
  }
  return { status: 200, contentType: 'text/plain; charset=utf-8', body: renderStatsText(store, q) };
}
