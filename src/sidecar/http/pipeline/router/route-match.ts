// Route and header matching with Envoy's semantics, compiled once per route (stands in for sidecar/config's matchers).

import type { HeaderMatcher, QueryParameterMatcher, RouteEntry, RouteMatch } from '../../../config/model.js';
import type { ProxyRequest } from '../../message.js';
import { requestHeaderValue } from './request-headers.js';

/**
 * Envoy's `HeaderUtility::matchHeaders` for one matcher: a missing header matches only an inverted presence
 * test or `present: false` (unless treated as empty); otherwise the value test, then `invert`.
 */
export function headerMatches(m: HeaderMatcher, value: string | undefined): boolean {
  if (value === undefined && !m.treatMissingAsEmpty) {
    const presentMatch = m.kind === 'present';
    const present = m.present ?? true;
    return m.invert ? presentMatch && present : presentMatch && !present;
  }
  const v = value ?? '';
  let match: boolean;
  switch (m.kind) {
    case 'present':
      match = m.present ?? true;
      break;
    case 'range': {
      const r = m.range;
      match = r !== undefined && /^-?\d+$/.test(v) && Number(v) >= r.start && Number(v) < r.end;
      break;
    }
    default:
      match = m.match === undefined ? true : m.match.test(v);
  }
  return match !== m.invert;
}

/** Every matcher holds for the request (Envoy ANDs route header matchers). */
export function requestMatchesHeaders(req: ProxyRequest, matchers: readonly HeaderMatcher[]): boolean {
  for (let i = 0; i < matchers.length; i++) {
    const m = matchers[i]!;
    if (!headerMatches(m, requestHeaderValue(req, m.name))) return false;
  }
  return true;
}

function pathEnd(path: string): number {
  const q = path.indexOf('?');
  const h = path.indexOf('#');
  if (q < 0) return h < 0 ? path.length : h;
  return h < 0 ? q : Math.min(q, h);
}

type PathTest = (path: string) => boolean;

function pathTest(m: RouteMatch): PathTest {
  const { kind, value } = m.path;
  const cs = m.caseSensitive;
  const lower = value.toLowerCase();
  const starts = cs
    ? (p: string) => p.startsWith(value)
    : (p: string) => p.length >= value.length && p.slice(0, value.length).toLowerCase() === lower;
  switch (kind) {
    case 'prefix':
      return (p) => starts(p.slice(0, pathEnd(p)));
    case 'exact':
      return (p) => {
        const end = pathEnd(p);
        return end === value.length && starts(p);
      };
    case 'separatedPrefix':
      return (p) => {
        const end = pathEnd(p);
        if (end < value.length || !starts(p)) return false;
        return end === value.length || p.charCodeAt(value.length) === 47;
      };
    case 'regex': {
      const re = m.path.regex ?? new RegExp(`^(?:${value})$`);
      return (p) => {
        re.lastIndex = 0;
        return re.test(p.slice(0, pathEnd(p)));
      };
    }
  }
}

function queryValues(path: string): URLSearchParams {
  const q = path.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : path.slice(q + 1));
}

function queryMatches(params: URLSearchParams, m: QueryParameterMatcher): boolean {
  const v = params.get(m.name);
  if (v === null) return false;
  return m.match === undefined || m.match.test(v);
}

export type RoutePredicate = (req: ProxyRequest, grpc: boolean) => boolean;

/** Path first (cheapest), then gRPC, headers and query parameters, as Envoy evaluates a route. */
export function compileRouteMatch(m: RouteMatch): RoutePredicate {
  const path = pathTest(m);
  const headers = m.headers;
  const query = m.queryParameters;
  const grpcOnly = m.grpcOnly;
  return (req, grpc) => {
    if (!path(req.path)) return false;
    if (grpcOnly && !grpc) return false;
    if (headers.length > 0 && !requestMatchesHeaders(req, headers)) return false;
    if (query.length > 0) {
      const params = queryValues(req.path);
      for (const q of query) if (!queryMatches(params, q)) return false;
    }
    return true;
  };
}

const compiled = new WeakMap<RouteEntry, RoutePredicate>();

/** The route's compiled predicate (built on first use; route entries are immutable snapshots). */
export function routePredicate(route: RouteEntry): RoutePredicate {
  let p = compiled.get(route);
  if (p === undefined) {
    p = compileRouteMatch(route.match);
    compiled.set(route, p);
  }
  return p;
}
