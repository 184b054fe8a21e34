// Route matching with Envoy's semantics: the first route whose path, headers, query parameters and gRPC test all hold.

import { asciiLower, startsWithIgnoreCase } from '../ascii.js';
import type { RouteEntry, RouteMatch, RouteRequest, VirtualHostConfig } from '../model.js';
import { parseQuery, type QueryParams } from './query.js';

/** The first route of the virtual host that matches the request, or undefined (Envoy answers 404 NR). */
export function findRoute(vhost: VirtualHostConfig, req: RouteRequest): RouteEntry | undefined {
  for (const route of vhost.routes) if (route.matches(req)) return route;
  return undefined;
}

/** Where the path ends: Envoy matches paths with the query string and fragment removed. */
function pathEnd(path: string): number {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) return i;
  }
  return path.length;
}

function hasQueryOrFragment(s: string): boolean {
  return s.includes('?') || s.includes('#');
}

type PathTest = (path: string) => boolean;

function pathTest(m: RouteMatch): PathTest {
  const { kind, value } = m.path;
  const lower = m.caseSensitive ? value : asciiLower(value);
  switch (kind) {
    case 'prefix':
      // A prefix without "?" or "#" can be tested on the raw path: it ends before any query.
      if (!hasQueryOrFragment(value)) {
        return m.caseSensitive ? (p) => p.startsWith(value) : (p) => startsWithIgnoreCase(p, lower);
      }
      return m.caseSensitive
        ? (p) => p.slice(0, pathEnd(p)).startsWith(value)
        : (p) => startsWithIgnoreCase(p.slice(0, pathEnd(p)), lower);
    case 'exact':
      if (hasQueryOrFragment(value)) return () => false;
      return (p) => {
        const end = pathEnd(p);
        if (end !== value.length) return false;
        return m.caseSensitive ? p.startsWith(value) : startsWithIgnoreCase(p, lower);
      };
    case 'separatedPrefix':
      return (p) => {
        const end = pathEnd(p);
        if (end < value.length) return false;
        if (!(m.caseSensitive ? p.startsWith(value) : startsWithIgnoreCase(p, lower))) return false;
        return end === value.length || p.charCodeAt(value.length) === 47 /* / */;
      };
    case 'regex': {
      const re = m.path.regex!;
      return (p) => {
        const end = pathEnd(p);
        return re.test(end === p.length ? p : p.slice(0, end));
      };
    }
  }
}

/** Envoy's Grpc::Common::isGrpcRequestHeaders: content-type application/grpc or application/grpc+<subtype>. */
function isGrpc(contentType: string | undefined): boolean {
  if (contentType === undefined || !startsWithIgnoreCase(contentType, 'application/grpc')) return false;
  return contentType.length === 16 || contentType.charCodeAt(16) === 43 /* + */;
}

/** Compiles a RouteMatch into one predicate, cheapest test first. */
export function compileRouteMatch(m: RouteMatch): (req: RouteRequest) => boolean {
  const path = pathTest(m);
  const headers = m.headers;
  const query = m.queryParameters;
  const grpc = m.grpcOnly;
  return (req) => {
    if (!path(req.path)) return false;
    if (grpc && !isGrpc(req.header('content-type'))) return false;
    for (let i = 0; i < headers.length; i++) if (!headers[i]!.matches(req.header)) return false;
    if (query.length > 0) {
      const params: QueryParams = parseQuery(req.path);
      for (const q of query) {
        const v = params.get(q.name);
        if (v === undefined) return false;
        if (q.match && !q.match.test(v)) return false;
      }
    }
    return true;
  };
}
