// Query parameter parsing for the API: durations, times, ranges, flags and scopes, with 400s that say why.

import { parseDuration } from '../../shared/duration.js';
import { TrellisError } from '../../shared/errors.js';
import type { SignalScope } from '../../telemetry/store/queries.js';

export function badRequest(message: string): TrellisError {
  return new TrellisError('API_BAD_REQUEST', message);
}

/** A Go-style duration (`30s`, `5m`, `1h30m`) within [min, max]; the default when absent. */
export function durationParam(
  query: URLSearchParams,
  name: string,
  opts: { default: number; min?: number; max?: number },
): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return opts.default;
  const ms = parseDuration(raw);
  if (ms === undefined) throw badRequest(`${name}="${raw}" is not a duration; write e.g. 30s, 5m or 1h`);
  const min = opts.min ?? 0;
  const max = opts.max ?? Number.POSITIVE_INFINITY;
  if (ms < min || ms > max) {
    throw badRequest(`${name}=${raw} is out of range: between ${min / 1000}s and ${max / 1000}s`);
  }
  return ms;
}

/**
 * A point in time: epoch milliseconds (numbers from 1e12 up), epoch seconds (smaller numbers, as
 * Prometheus takes them), RFC 3339, `now`, or relative to now: `-15m`, `now-15m`.
 */
export function parseTime(raw: string, now: number): number | undefined {
  const text = raw.trim();
  if (text === 'now') return now;
  const rel = /^(?:now)?-(.+)$/.exec(text);
  if (rel) {
    const ms = parseDuration(rel[1]!);
    return ms === undefined ? undefined : now - ms;
  }
  if (/^\d+(\.\d+)?$/.test(text)) {
    const n = Number(text);
    return n >= 1e12 ? n : n * 1000;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const t = Date.parse(text);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

export function timeParam(query: URLSearchParams, name: string, now: number): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const t = parseTime(raw, now);
  if (t === undefined) {
    throw badRequest(
      `${name}="${raw}" is not a time; write epoch milliseconds, RFC 3339, "now" or a relative "-15m"`,
    );
  }
  return t;
}

const NICE_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].map((s) => s * 1000);

/** The smallest "round" step at least `ms` long. */
export function niceStep(ms: number): number {
  return NICE_STEPS_MS.find((s) => s >= ms) ?? Math.ceil(ms / 3_600_000) * 3_600_000;
}

export interface TimeRange {
  startMs: number;
  endMs: number;
  stepMs: number;
}

/**
 * `start`, `end` and `step` for charts. Defaults: the last `defaultSpanMs` up to now, about `targetPoints`
 * steps of a round size. Both ends are aligned to the step so successive refreshes share timestamps.
 */
export function rangeParams(
  query: URLSearchParams,
  now: number,
  opts: { defaultSpanMs?: number; targetPoints?: number; maxPoints?: number } = {},
): TimeRange {
  const end = timeParam(query, 'end', now) ?? now;
  const start = timeParam(query, 'start', now) ?? end - (opts.defaultSpanMs ?? 15 * 60_000);
  if (start >= end) throw badRequest(`start (${start}) must be before end (${end})`);
  const rawStep = query.get('step');
  let stepMs: number;
  if (rawStep === null || rawStep === '') {
    stepMs = niceStep((end - start) / (opts.targetPoints ?? 120));
  } else {
    const parsed = /^\d+(\.\d+)?$/.test(rawStep) ? Number(rawStep) * 1000 : parseDuration(rawStep);
    if (parsed === undefined || parsed <= 0) {
      throw badRequest(`step="${rawStep}" is not a positive duration; write e.g. 15s or a number of seconds`);
    }
    stepMs = parsed;
  }
  const maxPoints = opts.maxPoints ?? 1100;
  const points = Math.floor((end - start) / stepMs) + 1;
  if (points > maxPoints) {
    throw badRequest(
      `${points} points requested (range ${(end - start) / 1000}s / step ${stepMs / 1000}s); at most ${maxPoints}: raise step`,
    );
  }
  const endMs = Math.floor(end / stepMs) * stepMs;
  const startMs = endMs - Math.floor((end - start) / stepMs) * stepMs;
  return { startMs, endMs, stepMs };
}

export function boolParam(query: URLSearchParams, name: string): boolean {
  const raw = query.get(name);
  if (raw === null) return false;
  const v = raw.toLowerCase();
  if (v === '' || v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw badRequest(`${name}="${raw}" is not a boolean; write true or false`);
}

export function intParam(
  query: URLSearchParams,
  name: string,
  opts: { default: number; min: number; max: number },
): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return opts.default;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < opts.min || n > opts.max) {
    throw badRequest(`${name}="${raw}" must be an integer from ${opts.min} to ${opts.max}`);
  }
  return n;
}

export function enumParam<T extends string>(
  query: URLSearchParams,
  name: string,
  values: readonly T[],
  fallback: T,
): T {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if ((values as readonly string[]).includes(raw)) return raw as T;
  throw badRequest(`${name}="${raw}" must be one of ${values.join(', ')}`);
}

/** `tag=key:value` (split at the first colon, repeatable) and/or `tags={"key":"value"}` (Jaeger's form). */
export function tagParams(query: URLSearchParams): Record<string, string> | undefined {
  const tags: Record<string, string> = {};
  for (const raw of query.getAll('tag')) {
    const i = raw.indexOf(':');
    if (i <= 0) throw badRequest(`tag="${raw}" must be key:value`);
    tags[raw.slice(0, i)] = raw.slice(i + 1);
  }
  const json = query.get('tags');
  if (json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw badRequest(`tags="${json}" is not a JSON object`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw badRequest(`tags="${json}" is not a JSON object`);
    }
    for (const [k, v] of Object.entries(parsed)) tags[k] = String(v);
  }
  return Object.keys(tags).length ? tags : undefined;
}

/**
 * The traffic a chart shows: `service:<host>` (requests to a service), `workload:<ns>/<name>` (requests
 * served by a workload) or `edge:<ns>/<workload>-><host>` (one caller's requests to one service).
 */
export function parseScope(raw: string | null): SignalScope {
  const fail = () =>
    badRequest(
      `scope="${raw ?? ''}" must be service:<host>, workload:<namespace>/<name> or edge:<namespace>/<workload>-><host>`,
    );
  if (!raw) throw fail();
  const colon = raw.indexOf(':');
  const kind = raw.slice(0, colon);
  const rest = raw.slice(colon + 1);
  if (colon < 0 || !rest) throw fail();
  if (kind === 'service') return { service: rest };
  const nsName = (s: string) => {
    const slash = s.indexOf('/');
    if (slash <= 0 || slash === s.length - 1) throw fail();
    return [s.slice(0, slash), s.slice(slash + 1)] as const;
  };
  if (kind === 'workload') {
    const [namespace, workload] = nsName(rest);
    return { workload, namespace };
  }
  if (kind === 'edge') {
    const arrow = rest.indexOf('->');
    if (arrow < 0 || arrow === rest.length - 2) throw fail();
    const [sourceNamespace, sourceWorkload] = nsName(rest.slice(0, arrow));
    return { sourceWorkload, sourceNamespace, service: rest.slice(arrow + 2) };
  }
  throw fail();
}
