// The dashboard's client for the control plane's HTTP API (same origin); errors carry the API's message.

import type {
  ConfigListResponse,
  EdgesResponse,
  ErrorBody,
  GraphResponse,
  ProcessesResponse,
  ProxyListResponse,
  RequestsResponse,
  SeriesResponse,
  ServicesResponse,
  StatusResponse,
  TraceResponse,
  TraceSearchResponse,
  WorkloadsResponse,
} from '../../../controlplane/api/types.js';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

type Params = Record<string, string | number | boolean | undefined | null | string[]>;

/** `/path?a=1&b=x&b=y`, skipping empty values. */
export function url(path: string, params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    if (Array.isArray(v)) for (const x of v) q.append(k, x);
    else q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'BAD_RESPONSE', `${path} answered ${res.status} with a non-JSON body`);
  }
  if (!res.ok) {
    const err = (body as ErrorBody).error;
    throw new ApiError(res.status, err?.code ?? 'HTTP', err?.message ?? `${path} answered ${res.status}`);
  }
  return body as T;
}

export interface Range {
  /** Relative start understood by the API, e.g. `-15m`. */
  start: string;
  window: string;
}

export const api = {
  status: () => getJson<StatusResponse>('/api/v1/status'),
  services: (window: string) => getJson<ServicesResponse>(url('/api/v1/telemetry/services', { window })),
  workloads: (window: string) => getJson<WorkloadsResponse>(url('/api/v1/telemetry/workloads', { window })),
  edges: (window: string) => getJson<EdgesResponse>(url('/api/v1/telemetry/edges', { window })),
  series: (scope: string, range: Range) =>
    getJson<SeriesResponse>(url('/api/v1/telemetry/series', { scope, start: range.start })),
  processes: (pods: string[], range: Range) =>
    getJson<ProcessesResponse>(url('/api/v1/telemetry/processes', { pod: pods, start: range.start })),
  graph: (by: 'service' | 'workload', window: string) =>
    getJson<GraphResponse>(url('/api/v1/graph', { by, window })),
  config: (params: Params = {}) => getJson<ConfigListResponse>(url('/api/v1/config', params)),
  proxies: () => getJson<ProxyListResponse>('/api/v1/proxies'),
  traces: (params: Params) => getJson<TraceSearchResponse>(url('/api/v1/traces', params)),
  trace: (id: string) => getJson<TraceResponse>(`/api/v1/traces/${encodeURIComponent(id)}`),
  requests: (limit: number) => getJson<RequestsResponse>(url('/api/v1/requests', { limit })),
};
