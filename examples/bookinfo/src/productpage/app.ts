// productpage's routes: the page, sign-in and sign-out, the JSON API, health and metrics.

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { pathOf, readBody, sendJson, sendText } from '../../../shared/http-util.js';
import { B3_HEADERS, CONTEXT_HEADERS, forwardHeaders } from '../../../shared/trace-headers.js';
import { type BackendResult, Backends, type BackendUrls } from './backends.js';
import { ProductPageMetrics } from './metrics.js';
import { renderIndex, renderProductPage } from './page.js';
import { getProduct, getProducts } from './products.js';
import { SessionCookie } from './session.js';

export interface ProductPageOptions extends BackendUrls {
  sessionSecret: string;
  /** Per-call timeout to the backends; 3 s as in Istio. */
  timeoutMs?: number;
}

/** The headers productpage forwards, before adding `end-user` for the signed-in user. */
export const PRODUCTPAGE_FORWARDED_HEADERS: readonly string[] = [...B3_HEADERS, ...CONTEXT_HEADERS];

type Route = (req: IncomingMessage, res: ServerResponse, params: string[]) => Promise<void> | void;

export function createProductPageHandler(opts: ProductPageOptions): RequestListener {
  const metrics = new ProductPageMetrics();
  const session = new SessionCookie(opts.sessionSecret);
  const backends = new Backends({
    ...opts,
    onResult: (app, status) => metrics.results.inc({ destination_app: app, response_code: String(status) }),
  });

  /** Trace context plus the user, so that VirtualServices can route on `end-user: jason`. */
  const outboundHeaders = (req: IncomingMessage): Record<string, string> => {
    const headers = forwardHeaders(req.headers, PRODUCTPAGE_FORWARDED_HEADERS);
    const user = session.userFrom(req.headers.cookie);
    if (user) headers['end-user'] = user;
    return headers;
  };
  const apiResult = (res: ServerResponse, result: BackendResult) => sendJson(res, result.status, result.body);
  const backToReferrer = (req: IncomingMessage, res: ServerResponse, cookie: string) => {
    res.writeHead(302, { location: req.headers.referer ?? '/productpage', 'set-cookie': cookie });
    res.end();
  };

  const routes: { method: string; pattern: RegExp; name: string; handle: Route }[] = [
    {
      method: 'GET',
      pattern: /^\/(index\.html)?$/,
      name: 'index',
      handle: (_req, res) =>
        sendText(
          res,
          200,
          renderIndex([
            { name: 'details', url: opts.detailsUrl },
            { name: 'reviews', url: opts.reviewsUrl },
            { name: 'ratings', url: opts.ratingsUrl },
          ]),
          'text/html',
        ),
    },
    {
      method: 'GET',
      pattern: /^\/health$/,
      name: 'health',
      handle: (_q, res) => sendText(res, 200, 'Product page is healthy'),
    },
    {
      method: 'POST',
      pattern: /^\/login$/,
      name: 'login',
      handle: async (req, res) => {
        // The password is never checked: Bookinfo only needs to know who claims to be signed in.
        const form = new URLSearchParams((await readBody(req)).toString('utf8'));
        const user = form.get('username') ?? new URL(req.url ?? '/', 'http://x').searchParams.get('username');
        if (user) metrics.logins.inc();
        backToReferrer(req, res, user ? session.issue(user) : session.clear());
      },
    },
    {
      method: 'GET',
      pattern: /^\/logout$/,
      name: 'logout',
      handle: (req, res) => backToReferrer(req, res, session.clear()),
    },
    {
      method: 'GET',
      pattern: /^\/productpage$/,
      name: 'productpage',
      handle: async (req, res) => {
        const headers = outboundHeaders(req);
        const details = await backends.details('0', headers);
        const reviews = await backends.reviews('0', headers);
        const html = renderProductPage({
          product: getProduct(0)!,
          user: session.userFrom(req.headers.cookie) ?? '',
          details,
          reviews,
        });
        sendText(res, 200, html, 'text/html');
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/products$/,
      name: 'products',
      handle: (_q, res) => sendJson(res, 200, getProducts()),
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/products\/([^/]+)$/,
      name: 'product',
      handle: async (req, res, [id]) => apiResult(res, await backends.details(id!, outboundHeaders(req))),
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/products\/([^/]+)\/reviews$/,
      name: 'product_reviews',
      handle: async (req, res, [id]) => apiResult(res, await backends.reviews(id!, outboundHeaders(req))),
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/products\/([^/]+)\/ratings$/,
      name: 'product_ratings',
      handle: async (req, res, [id]) => apiResult(res, await backends.ratings(id!, outboundHeaders(req))),
    },
    {
      method: 'GET',
      pattern: /^\/metrics$/,
      name: 'metrics',
      handle: (_q, res) => sendText(res, 200, metrics.render(), 'text/plain; version=0.0.4'),
    },
  ];

  return (req, res) => {
    const path = pathOf(req);
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const matching = routes.filter((r) => r.pattern.test(path));
    const route = matching.find((r) => r.method === method);
    const name = route?.name ?? (matching.length > 0 ? 'method_not_allowed' : 'not_found');
    res.on('finish', () => metrics.requests.inc({ route: name, code: String(res.statusCode) }));
    if (!route) {
      if (matching.length > 0) {
        res.setHeader('allow', [...new Set(matching.map((r) => r.method))].join(', '));
        sendText(res, 405, 'Method Not Allowed\n');
      } else sendText(res, 404, 'Not Found\n');
      return;
    }
    const params = route.pattern.exec(path)!.slice(1);
    Promise.resolve(route.handle(req, res, params)).catch((e: unknown) => {
      if (!res.headersSent)
        sendText(res, 500, `Internal Server Error: ${e instanceof Error ? e.message : String(e)}\n`);
      else res.destroy();
    });
  };
}
