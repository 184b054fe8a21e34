// envoy.filters.http.cors: preflights answered locally, actual requests' responses get the allow headers.

import type { CorsConfig } from '../../../config/model.js';
import { HeaderList } from '../../headers.js';
import { type Handler, localReply } from '../../message.js';
import { streamOf } from '../stream.js';
import type { Filter, FilterEnv } from './types.js';

/** The policies in force, most specific first: the route's, then the virtual host's (Envoy's fallback per field). */
function policiesOf(route: CorsConfig | undefined, vhost: CorsConfig | undefined): CorsConfig[] {
  if (route && vhost) return [route, vhost];
  if (route) return [route];
  if (vhost) return [vhost];
  return [];
}

function first<K extends keyof CorsConfig>(policies: CorsConfig[], key: K): CorsConfig[K] | undefined {
  for (const p of policies) {
    const v = p[key];
    if (typeof v === 'string' ? v !== '' : Array.isArray(v) ? v.length > 0 : v) return v;
  }
  return undefined;
}

function originAllowed(policies: CorsConfig[], origin: string): boolean {
  const allow = first(policies, 'allowOrigins') ?? [];
  for (const m of allow) if (m.test('*') || m.test(origin)) return true;
  return false;
}

/**
 * Envoy's CorsFilter. A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered here
 * with 200 and the allow headers, unless the origin is not allowed and `forwardNotMatchingPreflights` sends it
 * upstream. Other requests with an allowed Origin get allow-origin, allow-credentials and expose-headers on
 * their response; a disallowed origin leaves the response untouched (the browser refuses it).
 */
export function corsFilter(_env: FilterEnv): Filter {
  return (next: Handler): Handler => {
    const apply = async (
      req: Parameters<Handler>[0],
      ctx: Parameters<Handler>[1],
      policies: CorsConfig[],
      origin: string,
    ) => {
      const s = streamOf(ctx)!;
      const allowed = originAllowed(policies, origin);
      const credentials = policies.some((p) => p.allowCredentials);
      const requestMethod = req.headers.get('access-control-request-method');
      if (req.method === 'OPTIONS' && requestMethod !== undefined && requestMethod !== '') {
        const forward = policies[0]!.forwardNotMatchingPreflights;
        if (!allowed && forward) return next(req, ctx);
        const headers = new HeaderList();
        if (allowed) headers.set('access-control-allow-origin', origin);
        if (credentials) headers.set('access-control-allow-credentials', 'true');
        const methods = first(policies, 'allowMethods');
        if (methods) headers.set('access-control-allow-methods', methods === '*' ? requestMethod : methods);
        const allowHeaders = first(policies, 'allowHeaders');
        if (allowHeaders) {
          const asked = req.headers.get('access-control-request-headers');
          if (allowHeaders !== '*') headers.set('access-control-allow-headers', allowHeaders);
          else if (asked) headers.set('access-control-allow-headers', asked);
        }
        const maxAge = first(policies, 'maxAge');
        if (maxAge) headers.set('access-control-max-age', maxAge);
        s.details = 'cors_response';
        return localReply({ status: 200, headers });
      }
      const res = await next(req, ctx);
      if (allowed) {
        res.headers.set('access-control-allow-origin', origin);
        if (credentials) res.headers.set('access-control-allow-credentials', 'true');
        const expose = first(policies, 'exposeHeaders');
        if (expose) res.headers.set('access-control-expose-headers', expose);
      }
      return res;
    };
    // Requests without a policy or an Origin pass on without an extra async frame.
    return (req, ctx) => {
      const s = streamOf(ctx);
      if (s === undefined || s.route === undefined) return next(req, ctx);
      const routeCors = s.route.cors;
      const vhostCors = s.vhost?.cors;
      if (routeCors === undefined && vhostCors === undefined) return next(req, ctx);
      const origin = req.headers.get('origin');
      if (origin === undefined || origin === '') return next(req, ctx);
      return apply(req, ctx, policiesOf(routeCors, vhostCors), origin);
    };
  };
}
