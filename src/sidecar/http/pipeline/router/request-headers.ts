// Reading request headers the way Envoy's matchers do: pseudo-headers answered, repeated values joined by ",".

import type { ProxyRequest } from '../../message.js';

/**
 * The value a matcher sees for `name` (lower-case): `:path`, `:method`, `:authority`, `:scheme` from the
 * request line, other names with every value joined by "," (Envoy's `getAllOfHeaderAsString`), so a second
 * value cannot hide behind the first.
 */
export function requestHeaderValue(req: ProxyRequest, name: string): string | undefined {
  if (name.charCodeAt(0) === 58 /* : */) {
    switch (name) {
      case ':path':
        return req.path;
      case ':method':
        return req.method;
      case ':authority':
      case 'host':
        return req.authority;
      case ':scheme':
        return req.scheme;
      default:
        return undefined;
    }
  }
  if (name === 'host') return req.authority;
  const headers = req.headers;
  let out: string | undefined;
  const n = headers.size;
  for (let i = 0; i < n; i++) {
    if (headers.nameAt(i) === name)
      out = out === undefined ? headers.valueAt(i) : `${out},${headers.valueAt(i)}`;
  }
  return out;
}

/** A lookup bound to one request, for APIs that take a function. */
export function headerLookup(req: ProxyRequest): (name: string) => string | undefined {
  return (name) => requestHeaderValue(req, name);
}
