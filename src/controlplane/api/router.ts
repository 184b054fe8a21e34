// A small HTTP router on node:http: JSON and raw routes with path parameters, prefix mounts, coded errors.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage, TrellisError } from '../../shared/errors.js';
import { type Logger, silentLogger } from '../../shared/log.js';
import { sendError, sendJson, statusForError } from './respond.js';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Decoded path parameters (`:id`), and `*` for a trailing wildcard. */
  params: Record<string, string>;
}

/** Returns the JSON body (200), or a Reply for another status or headers; or writes `res` itself. */
export type JsonHandler = (ctx: RouteContext) => unknown | Promise<unknown>;
/** Writes the response itself (SSE, files, foreign handlers). */
export type RawHandler = (ctx: RouteContext) => void | Promise<void>;

export class Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;

  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

type Segment = { literal: string } | { param: string } | { rest: true };

interface Route {
  method: string;
  pattern: string;
  segments: Segment[];
  /** Literal segments outrank parameters, parameters outrank a wildcard: compared position by position. */
  rank: number[];
  run: (ctx: RouteContext) => Promise<void>;
}

function compile(pattern: string): Segment[] {
  if (!pattern.startsWith('/')) throw new TrellisError('API_ROUTE', `route "${pattern}" must start with /`);
  const parts = pattern.split('/').slice(1);
  return parts.map((p, i) => {
    if (p === '*') {
      if (i !== parts.length - 1) throw new TrellisError('API_ROUTE', `route "${pattern}": * must be last`);
      return { rest: true as const };
    }
    if (p.startsWith(':')) return { param: p.slice(1) };
    return { literal: p };
  });
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new TrellisError('API_BAD_REQUEST', `malformed percent-encoding in path segment "${segment}"`);
  }
}

function match(segments: Segment[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if ('rest' in s) {
      params['*'] = parts.slice(i).map(decode).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if ('literal' in s) {
      if (s.literal !== part) return undefined;
    } else {
      if (part === '') return undefined;
      params[s.param] = decode(part);
    }
  }
  return segments.length === parts.length ? params : undefined;
}

function outranks(a: number[], b: number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? -1;
    const y = b[i] ?? -1;
    if (x !== y) return x > y;
  }
  return false;
}

/**
 * Routes are matched by path first (the most specific pattern wins), then by method (405 with Allow when
 * only the method is wrong); HEAD runs the GET route. Mounts take every method under a prefix and are tried
 * for paths no route pattern matches, longest prefix first, so a catch-all such as the dashboard's files can
 * sit at `/`.
 */
export class Router {
  readonly #routes: Route[] = [];
  readonly #mounts: { prefix: string; run: (ctx: RouteContext) => Promise<void> }[] = [];
  readonly #before: ((ctx: RouteContext) => void)[] = [];
  readonly #log: Logger;

  constructor(opts: { logger?: Logger } = {}) {
    this.#log = opts.logger ?? silentLogger;
  }

  get(pattern: string, handler: JsonHandler): this {
    return this.json('GET', pattern, handler);
  }

  post(pattern: string, handler: JsonHandler): this {
    return this.json('POST', pattern, handler);
  }

  delete(pattern: string, handler: JsonHandler): this {
    return this.json('DELETE', pattern, handler);
  }

  json(method: string, pattern: string, handler: JsonHandler): this {
    return this.#add(method, pattern, async (ctx) => {
      const out = await handler(ctx);
      // The handler chose to write the response itself (another format than JSON).
      if (ctx.res.headersSent || ctx.res.writableEnded) return;
      if (out instanceof Reply) sendJson(ctx.req, ctx.res, out.status, out.body, out.headers);
      else sendJson(ctx.req, ctx.res, 200, out);
    });
  }

  raw(method: string, pattern: string, handler: RawHandler): this {
    return this.#add(method, pattern, async (ctx) => handler(ctx));
  }

  /** Every request whose path starts with `prefix` (which should end in `/`), whatever its method. */
  mount(prefix: string, handler: RawHandler): this {
    this.#mounts.push({ prefix, run: async (ctx) => handler(ctx) });
    this.#mounts.sort((a, b) => b.prefix.length - a.prefix.length);
    return this;
  }

  /** A check that runs before every route and mount; throwing answers the request with the error. */
  before(check: (ctx: RouteContext) => void): this {
    this.#before.push(check);
    return this;
  }

  #add(method: string, pattern: string, run: Route['run']): this {
    const segments = compile(pattern);
    const upper = method.toUpperCase();
    if (this.#routes.some((r) => r.method === upper && r.pattern === pattern)) {
      throw new TrellisError('API_ROUTE', `route ${upper} ${pattern} is already registered`);
    }
    const rank = segments.map((s) => ('literal' in s ? 2 : 'param' in s ? 1 : 0));
    this.#routes.push({ method: upper, pattern, segments, rank, run });
    return this;
  }

  /** Answers the request if a route or mount takes it; resolves false (nothing written) otherwise. */
  async dispatch(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendError(req, res, new TrellisError('API_BAD_REQUEST', `malformed request target "${req.url}"`));
      return true;
    }
    const ctx: RouteContext = { req, res, url, params: {} };
    try {
      for (const check of this.#before) check(ctx);
      const parts = url.pathname.split('/').slice(1);
      const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
      let best: { route: Route; params: Record<string, string> } | undefined;
      const allowed = new Set<string>();
      for (const route of this.#routes) {
        const params = match(route.segments, parts);
        if (!params) continue;
        allowed.add(route.method);
        if (route.method !== method) continue;
        if (!best || outranks(route.rank, best.route.rank)) best = { route, params };
      }
      if (best) {
        ctx.params = best.params;
        await best.route.run(ctx);
        return true;
      }
      if (allowed.size > 0) {
        if (allowed.has('GET')) allowed.add('HEAD');
        const allow = [...allowed].sort().join(', ');
        res.setHeader('allow', allow);
        throw new TrellisError(
          'API_METHOD_NOT_ALLOWED',
          `${req.method} is not supported on ${url.pathname}; use ${allow}`,
        );
      }
      const mount = this.#mounts.find((m) => url.pathname.startsWith(m.prefix));
      if (mount) {
        await mount.run(ctx);
        return true;
      }
      return false;
    } catch (e) {
      this.#fail(ctx, e);
      return true;
    }
  }

  #fail(ctx: RouteContext, e: unknown): void {
    const status = statusForError(e);
    if (status >= 500) {
      this.#log.error('request failed', {
        method: ctx.req.method,
        path: ctx.url.pathname,
        error: errorMessage(e),
      });
    }
    if (ctx.res.headersSent) {
      ctx.res.destroy();
      return;
    }
    sendError(ctx.req, ctx.res, e);
  }

  /** A node:http request listener: dispatch, and a JSON 404 for paths nothing takes. */
  readonly handler = (req: IncomingMessage, res: ServerResponse): void => {
    void this.dispatch(req, res).then((taken) => {
      if (!taken) {
        const path = (req.url ?? '/').split('?')[0];
        sendError(req, res, new TrellisError('API_NOT_FOUND', `no route for ${req.method} ${path}`));
      }
    });
  };
}
