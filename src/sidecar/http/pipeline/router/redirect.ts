// Route redirects as Envoy builds their Location: scheme, host, port, path or prefix, query kept or stripped.

import type { RedirectConfig, RouteMatch } from '../../../config/model.js';
import type { ProxyRequest } from '../../message.js';

function splitHostPort(authority: string): [string, string | undefined] {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    const rest = authority.slice(close + 1);
    return [authority.slice(0, close + 1), rest.startsWith(':') ? rest.slice(1) : undefined];
  }
  const colon = authority.lastIndexOf(':');
  return colon < 0 ? [authority, undefined] : [authority.slice(0, colon), authority.slice(colon + 1)];
}

function defaultPort(scheme: string): string {
  return scheme === 'https' ? '443' : '80';
}

/** The Location header value for a redirect route. */
export function redirectLocation(req: ProxyRequest, match: RouteMatch, r: RedirectConfig): string {
  const scheme = r.scheme ?? req.scheme;
  const [origHost, origPort] = splitHostPort(req.authority);
  let host = origHost;
  let port = origPort;
  if (r.host !== undefined) {
    const [h, p] = splitHostPort(r.host);
    host = h;
    port = p;
  }
  if (r.port !== undefined) port = String(r.port);
  // A scheme change drops the old scheme's default port; the new scheme's default port is never written.
  if (
    port !== undefined &&
    (port === defaultPort(scheme) || (r.scheme !== undefined && port === defaultPort(req.scheme)))
  ) {
    port = undefined;
  }
  const q = req.path.indexOf('?');
  const origPath = q < 0 ? req.path : req.path.slice(0, q);
  let query = q < 0 ? '' : req.path.slice(q);
  let path = origPath;
  if (r.path !== undefined) {
    const rq = r.path.indexOf('?');
    if (rq >= 0) {
      path = r.path.slice(0, rq);
      query = r.path.slice(rq);
    } else path = r.path;
  } else if (r.prefixRewrite !== undefined && match.path.kind !== 'regex') {
    const matched =
      match.path.kind === 'exact' ? origPath.length : Math.min(match.path.value.length, origPath.length);
    path = r.prefixRewrite + origPath.slice(matched);
  }
  if (r.stripQuery) query = '';
  return `${scheme}://${host}${port === undefined ? '' : `:${port}`}${path}${query}`;
}
