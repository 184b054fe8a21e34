// /api/v1/traces, /api/v1/requests, and span ingestion (OTLP/HTTP JSON, Zipkin v2) into the trace store.

import { TrellisError } from '../../../shared/errors.js';
import type { TraceSearch } from '../../../telemetry/store/traces.js';
import type { HandlerDeps } from '../deps.js';
import { badRequest, boolParam, durationParam, intParam, tagParams, timeParam } from '../params.js';
import { Reply, type Router } from '../router.js';
import type { RequestsResponse, TraceResponse, TraceSearchResponse } from '../types.js';

const TRACE_ID = /^[0-9a-f]{1,32}$/i;

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[:.]/g, '-');
}

function attachment(name: string): Record<string, string> {
  return { 'content-disposition': `attachment; filename="${name}"` };
}

export function registerTraceRoutes(router: Router, deps: HandlerDeps): void {
  const { traces } = deps.telemetry;

  router.get('/api/v1/traces', ({ url }): TraceSearchResponse => {
    const q = url.searchParams;
    const now = deps.clock.now();
    const search: TraceSearch = { limit: intParam(q, 'limit', { default: 20, min: 1, max: 1000 }) };
    const service = q.get('service');
    if (service) search.service = service;
    const operation = q.get('operation');
    if (operation) search.operation = operation;
    if (q.get('minDuration')) search.minDurationMs = durationParam(q, 'minDuration', { default: 0 });
    if (boolParam(q, 'errorsOnly')) search.errorsOnly = true;
    const start = timeParam(q, 'start', now);
    if (start !== undefined) search.startMs = start;
    const end = timeParam(q, 'end', now);
    if (end !== undefined) search.endMs = end;
    if (start !== undefined && end !== undefined && start > end) {
      throw badRequest(`start (${start}) must not be after end (${end})`);
    }
    const tags = tagParams(q);
    if (tags) search.tags = tags;
    return { atMs: now, traces: traces.search(search), services: traces.services() };
  });

  router.get('/api/v1/traces/:id', ({ params, url }) => {
    const id = params.id!;
    if (!TRACE_ID.test(id)) throw badRequest(`"${id}" is not a trace id: expected up to 32 hex digits`);
    const t = traces.get(id);
    if (!t)
      throw new TrellisError('API_NOT_FOUND', `trace ${id} is not in the store (never received, or evicted)`);
    const body: TraceResponse = { summary: t.summary, spans: t.spans };
    const headers = url.searchParams.has('download') ? attachment(`trace-${t.summary.traceId}.json`) : {};
    return new Reply(200, body, headers);
  });

  router.get('/api/v1/requests', ({ url }) => {
    const q = url.searchParams;
    const now = deps.clock.now();
    const opts: { limit: number; sinceMs?: number } = {
      limit: intParam(q, 'limit', { default: 100, min: 1, max: 10_000 }),
    };
    const since = timeParam(q, 'since', now);
    if (since !== undefined) opts.sinceMs = since;
    const body: RequestsResponse = { atMs: now, requests: traces.requestHistory(opts) };
    return new Reply(200, body, attachment(`trellis-requests-${stamp(now)}.json`));
  });

  router.raw('POST', '/v1/traces', ({ req, res }) => traces.otlpHandler(req, res));
  router.raw('POST', '/api/v2/spans', ({ req, res }) => traces.zipkinHandler(req, res));
}
