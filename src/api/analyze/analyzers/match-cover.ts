// Does one HTTP match block catch every request another one catches? (The basis of shadowed-rule analysis.)

import type { HTTPMatchRequest, StringMatch } from '../../types/networking.js';

type Presence = StringMatch | Record<string, never>;

function kind(m: Presence): 'exact' | 'prefix' | 'regex' | 'present' {
  if ('exact' in m) return 'exact';
  if ('prefix' in m) return 'prefix';
  if ('regex' in m) return 'regex';
  return 'present';
}

function value(m: Presence): string {
  return (
    (m as { exact?: string; prefix?: string; regex?: string }).exact ??
    (m as { prefix?: string }).prefix ??
    (m as { regex?: string }).regex ??
    ''
  );
}

/** Does string match `a` accept every string `b` accepts? Conservative: false when unsure (regexes). */
export function stringMatchCovers(
  a: Presence | undefined,
  b: Presence | undefined,
  ignoreCase = false,
): boolean {
  if (a === undefined) return true;
  if (b === undefined) return kind(a) === 'prefix' && value(a) === '';
  const norm = (s: string) => (ignoreCase ? s.toLowerCase() : s);
  const ka = kind(a);
  const kb = kind(b);
  if (ka === 'present') return true;
  if (kb === 'present') return false;
  if (ka === 'regex') return kb === 'regex' && value(a) === value(b);
  if (ka === 'exact') return kb === 'exact' && norm(value(a)) === norm(value(b));
  // a is a prefix: it covers exact and prefix matches that start with it.
  return kb !== 'regex' && norm(value(b)).startsWith(norm(value(a)));
}

function mapCovers(
  a: Record<string, Presence> | undefined,
  b: Record<string, Presence> | undefined,
): boolean {
  for (const [k, m] of Object.entries(a ?? {})) {
    if (!stringMatchCovers(m, b?.[k])) return false;
    if (b?.[k] === undefined) return false;
  }
  return true;
}

function sameMap(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): boolean {
  return JSON.stringify(Object.entries(a ?? {}).sort()) === JSON.stringify(Object.entries(b ?? {}).sort());
}

/** True when every request that `later` matches is already matched by `earlier`. */
export function matchCovers(earlier: HTTPMatchRequest, later: HTTPMatchRequest): boolean {
  // Case-insensitive earlier matches cover case-sensitive later ones, not the other way round.
  if (later.ignoreUriCase && !earlier.ignoreUriCase && earlier.uri) return false;
  if (!stringMatchCovers(earlier.uri, later.uri, earlier.ignoreUriCase ?? false)) return false;
  for (const f of ['scheme', 'method', 'authority'] as const) {
    if (!stringMatchCovers(earlier[f], later[f])) return false;
  }
  if (!mapCovers(earlier.headers, later.headers)) return false;
  if (!mapCovers(earlier.queryParams, later.queryParams)) return false;
  // withoutHeaders narrows a match; only an identical set is known to cover.
  if (!sameMap(earlier.withoutHeaders, later.withoutHeaders)) return false;
  if (earlier.port !== undefined && earlier.port !== later.port) return false;
  if (earlier.sourceNamespace !== undefined && earlier.sourceNamespace !== later.sourceNamespace)
    return false;
  for (const [k, v] of Object.entries(earlier.sourceLabels ?? {})) {
    if (later.sourceLabels?.[k] !== v) return false;
  }
  if (earlier.gateways) {
    if (!later.gateways?.every((g) => earlier.gateways!.includes(g))) return false;
  }
  return true;
}

/** Whether two match blocks are identical in what they match (names and stat prefixes aside). */
export function sameMatch(a: HTTPMatchRequest, b: HTTPMatchRequest): boolean {
  const strip = ({ name: _n, statPrefix: _s, ...rest }: HTTPMatchRequest) => rest;
  return JSON.stringify(sortKeys(strip(a))) === JSON.stringify(sortKeys(strip(b)));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  }
  return v;
}
