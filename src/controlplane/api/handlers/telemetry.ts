// /api/v1/telemetry/*: golden signals per service, workload and edge, chart series, and process usage.

import { eq, type LabelMatcher, re } from '../../../telemetry/store/matchers.js';
import { PROCESS_CPU, PROCESS_RSS } from '../../../telemetry/store/proc.js';
import { groupKey } from '../../../telemetry/store/source.js';
import type { HandlerDeps } from '../deps.js';
import { badRequest, durationParam, parseScope, rangeParams } from '../params.js';
import type { RouteContext, Router } from '../router.js';
import type {
  EdgesResponse,
  ProcessesResponse,
  ProcessRow,
  SeriesResponse,
  ServicesResponse,
  WorkloadsResponse,
} from '../types.js';

const MAX_WINDOW_MS = 24 * 3_600_000;
const WINDOW = { default: 60_000, min: 1000, max: MAX_WINDOW_MS };
/** Labels that identify one process series (pid alone can repeat across pid namespaces). */
const PROCESS_KEY = ['pid', 'pod', 'namespace', 'container', 'role'];
const DNS_NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

function windowOpts(deps: HandlerDeps, { url }: RouteContext) {
  const opts: { windowMs: number; atMs: number; namespace?: string } = {
    windowMs: durationParam(url.searchParams, 'window', WINDOW),
    atMs: deps.clock.now(),
  };
  const ns = url.searchParams.get('namespace');
  if (ns) opts.namespace = ns;
  return opts;
}

async function series(deps: HandlerDeps, { url }: RouteContext): Promise<SeriesResponse> {
  const q = url.searchParams;
  const scope = parseScope(q.get('scope'));
  const range = rangeParams(q, deps.clock.now());
  // A rate window shorter than the step would skip samples between steps.
  const windowMs = durationParam(q, 'window', { ...WINDOW, default: Math.max(60_000, range.stepMs) });
  const s = await deps.telemetry.queries.signalSeries({ scope, windowMs, ...range });
  return { scope: q.get('scope')!, windowMs, ...range, ...s };
}

function processMatchers(q: URLSearchParams): LabelMatcher[] {
  // The sampler labels every process with its pid; same-named series scraped from apps do not have one.
  const matchers: LabelMatcher[] = [re('pid', '.+')];
  const ns = q.get('namespace');
  if (ns) matchers.push(eq('namespace', ns));
  const pods = q.getAll('pod').filter(Boolean);
  for (const p of pods) if (!DNS_NAME.test(p)) throw badRequest(`pod="${p}" is not a pod name`);
  if (pods.length) matchers.push(re('pod', pods.map((p) => p.replaceAll('.', '\\.')).join('|')));
  return matchers;
}

async function processes(deps: HandlerDeps, { url }: RouteContext): Promise<ProcessesResponse> {
  const q = url.searchParams;
  const atMs = deps.clock.now();
  const range = rangeParams(q, atMs);
  const windowMs = durationParam(q, 'window', { ...WINDOW, default: Math.max(60_000, range.stepMs) });
  const matchers = processMatchers(q);
  const { queries } = deps.telemetry;
  const timestamps: number[] = [];
  for (let t = range.startMs; t <= range.endMs; t += range.stepMs) timestamps.push(t);
  const [usage, cpuRange, rssAt] = await Promise.all([
    queries.processUsage({ windowMs, atMs, matchers }),
    queries.source.sumRateRange({ metric: PROCESS_CPU, matchers, rangeMs: windowMs, by: PROCESS_KEY }, range),
    Promise.all(timestamps.map((t) => queries.source.latest(PROCESS_RSS, matchers, t))),
  ]);
  const index = new Map(timestamps.map((t, i) => [t, i]));
  const cpuByKey = new Map(cpuRange.map((s) => [groupKey(s.labels, PROCESS_KEY), s.points]));
  const rssByKey = new Map<string, (number | null)[]>();
  rssAt.forEach((samples, i) => {
    for (const s of samples) {
      const key = groupKey(s.labels, PROCESS_KEY);
      let row = rssByKey.get(key);
      if (!row) {
        row = timestamps.map(() => null);
        rssByKey.set(key, row);
      }
      row[i] = s.value;
    }
  });
  const rows = usage.map((u): ProcessRow => {
    const key = groupKey(u.labels, PROCESS_KEY);
    const cpuSeries: (number | null)[] = timestamps.map(() => null);
    for (const [t, v] of cpuByKey.get(key) ?? []) {
      const i = index.get(t);
      if (i !== undefined) cpuSeries[i] = v;
    }
    return {
      pod: u.labels.pod ?? '',
      namespace: u.labels.namespace ?? '',
      container: u.labels.container ?? u.labels.role ?? '',
      pid: Number(u.labels.pid),
      labels: u.labels,
      cpuCores: u.cpuCores,
      rssBytes: u.rssBytes,
      cpuSeries,
      rssSeries: rssByKey.get(key) ?? timestamps.map(() => null),
    };
  });
  rows.sort((a, b) =>
    `${a.namespace}/${a.pod}/${a.container}` < `${b.namespace}/${b.pod}/${b.container}` ? -1 : 1,
  );
  return { atMs, windowMs, ...range, timestamps, processes: rows };
}

export function registerTelemetryRoutes(router: Router, deps: HandlerDeps): void {
  const { queries } = deps.telemetry;
  router.get('/api/v1/telemetry/services', async (ctx): Promise<ServicesResponse> => {
    const opts = windowOpts(deps, ctx);
    return { windowMs: opts.windowMs, atMs: opts.atMs, services: await queries.serviceSignals(opts) };
  });
  router.get('/api/v1/telemetry/workloads', async (ctx): Promise<WorkloadsResponse> => {
    const opts = windowOpts(deps, ctx);
    return { windowMs: opts.windowMs, atMs: opts.atMs, workloads: await queries.workloadSignals(opts) };
  });
  router.get('/api/v1/telemetry/edges', async (ctx): Promise<EdgesResponse> => {
    const opts = windowOpts(deps, ctx);
    return { windowMs: opts.windowMs, atMs: opts.atMs, edges: await queries.edgeSignals(opts) };
  });
  router.get('/api/v1/telemetry/series', (ctx) => series(deps, ctx));
  router.get('/api/v1/telemetry/processes', (ctx) => processes(deps, ctx));
}
