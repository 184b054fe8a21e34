// httpbin, the HTTP request-and-response service Istio's tasks call: echo endpoints, status codes, delays, bytes, streams.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { pathOf, readBody, sendJson, sendText } from '../../shared/http-util.js';
import { bodyInfo, headersOf, multiDict, originOf, queryOf, urlOf } from './request-info.js';
import { pickStatus, statusReply } from './status.js';

export interface HttpbinOptions {
  /** Returns [0, 1); injected so tests can steer /status choices and /bytes output. */
  random?: () => number;
}

/** httpbin's limits: /delay waits at most 10 s, /bytes sends at most 100 KiB, /stream at most 100 lines. */
export const MAX_DELAY_SECONDS = 10;
export const MAX_BYTES = 100 * 1024;
export const MAX_STREAM_LINES = 100;

const ANY = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE'];
const GET = ['GET', 'HEAD', 'OPTIONS'];

type Handler = (req: IncomingMessage, res: ServerResponse, arg: string) => void | Promise<void>;

export function createHttpbinHandler(opts: HttpbinOptions = {}): RequestListener {
  const random = opts.random ?? Math.random;
  const pretty = (res: ServerResponse, status: number, value: unknown) => sendJson(res, status, value, true);
  const echo = (req: IncomingMessage) => ({
    args: multiDict(queryOf(req)),
    headers: headersOf(req),
    origin: originOf(req),
    url: urlOf(req),
  });
  const echoWithBody = async (req: IncomingMessage, withMethod: boolean) => {
    const base = echo(req);
    const body = bodyInfo(req, await readBody(req));
    return {
      args: base.args,
      data: body.data,
      files: body.files,
      form: body.form,
      headers: base.headers,
      json: body.json,
      ...(withMethod ? { method: req.method } : {}),
      origin: base.origin,
      url: base.url,
    };
  };

  const routes: { pattern: RegExp; methods: string[]; handle: Handler }[] = [
    { pattern: /^\/$/, methods: GET, handle: (_q, res) => sendText(res, 200, INDEX, 'text/html') },
    { pattern: /^\/get$/, methods: GET, handle: (req, res) => pretty(res, 200, echo(req)) },
    ...['post', 'put', 'patch', 'delete'].map((m) => ({
      pattern: new RegExp(`^/${m}$`),
      methods: [m.toUpperCase()],
      handle: async (req: IncomingMessage, res: ServerResponse) =>
        pretty(res, 200, await echoWithBody(req, false)),
    })),
    {
      pattern: /^\/anything(\/.*)?$/,
      methods: ANY,
      handle: async (req, res) => pretty(res, 200, await echoWithBody(req, true)),
    },
    {
      pattern: /^\/headers$/,
      methods: GET,
      handle: (req, res) => pretty(res, 200, { headers: headersOf(req) }),
    },
    { pattern: /^\/ip$/, methods: GET, handle: (req, res) => pretty(res, 200, { origin: originOf(req) }) },
    {
      pattern: /^\/user-agent$/,
      methods: GET,
      handle: (req, res) => pretty(res, 200, { 'user-agent': req.headers['user-agent'] ?? null }),
    },
    { pattern: /^\/uuid$/, methods: GET, handle: (_q, res) => pretty(res, 200, { uuid: randomUUID() }) },
    {
      pattern: /^\/status\/([^/]+)$/,
      methods: ANY,
      handle: (_q, res, codes) => {
        const code = pickStatus(codes, random);
        if (code === undefined || code < 200 || code > 599) {
          sendText(res, 400, 'Invalid status code');
          return;
        }
        const reply = statusReply(code);
        res.writeHead(reply.status, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': Buffer.byteLength(reply.body),
          ...reply.headers,
        });
        res.end(reply.body);
      },
    },
    {
      pattern: /^\/delay\/([^/]+)$/,
      methods: ANY,
      handle: async (req, res, seconds) => {
        const delayMs = delayMsFor(seconds);
        if (delayMs === undefined) {
          sendText(res, 400, 'Invalid delay');
          return;
        }
        const body = await echoWithBody(req, false);
        const timer = setTimeout(() => pretty(res, 200, withoutJson(body)), delayMs);
        res.on('close', () => clearTimeout(timer));
      },
    },
    {
      pattern: /^\/bytes\/(\d+)$/,
      methods: GET,
      handle: (req, res, n) => {
        const seed = queryOf(req).get('seed');
        const next = seed !== null && /^\d+$/.test(seed) ? seededRandom(Number(seed)) : random;
        const bytes = Buffer.alloc(Math.min(Number(n), MAX_BYTES));
        for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
        res.end(bytes);
      },
    },
    {
      pattern: /^\/stream\/(\d+)$/,
      methods: GET,
      handle: (req, res, n) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const base = echo(req);
        const line = { url: base.url, args: base.args, headers: base.headers, origin: base.origin };
        for (let id = 0; id < Math.min(Number(n), MAX_STREAM_LINES); id++)
          res.write(`${JSON.stringify({ ...line, id })}\n`);
        res.end();
      },
    },
  ];

  return (req, res) => {
    const path = pathOf(req);
    for (const route of routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      if (!route.methods.includes(req.method ?? 'GET')) {
        res.setHeader('allow', route.methods.join(', '));
        sendText(res, 405, METHOD_NOT_ALLOWED, 'text/html');
        return;
      }
      Promise.resolve(route.handle(req, res, match[1] ?? '')).catch((e: unknown) => {
        if (!res.headersSent)
          sendText(res, 400, `Bad Request: ${e instanceof Error ? e.message : String(e)}\n`);
        else res.destroy();
      });
      return;
    }
    sendText(res, 404, NOT_FOUND, 'text/html');
  };
}

/** `/delay/<seconds>`: fractional seconds allowed, capped at 10 s; undefined when not a number. */
export function delayMsFor(seconds: string): number | undefined {
  const delay = Number(seconds);
  if (seconds.trim() === '' || !Number.isFinite(delay) || delay < 0) return undefined;
  return Math.min(delay, MAX_DELAY_SECONDS) * 1000;
}

function withoutJson<T extends { json: unknown }>(value: T): Omit<T, 'json'> {
  const { json: _json, ...rest } = value;
  return rest;
}

/** A small deterministic generator (mulberry32) so `/bytes/n?seed=s` repeats. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOT_FOUND = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<title>404 Not Found</title>
<h1>Not Found</h1>
<p>The requested URL was not found on the server.  If you entered the URL manually please check your spelling and try again.</p>
`;

const METHOD_NOT_ALLOWED = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<title>405 Method Not Allowed</title>
<h1>Method Not Allowed</h1>
<p>The method is not allowed for the requested URL.</p>
`;

const INDEX = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>httpbin</title></head>
<body>
<h1>httpbin</h1>
<p>A simple HTTP request and response service (the Trellis rewrite of the sample Istio's tasks use).</p>
<ul>
<li>/get, /post, /put, /patch, /delete: the request, echoed as JSON</li>
<li>/anything[/...]: any method, echoed with the method</li>
<li>/headers, /ip, /user-agent, /uuid</li>
<li>/status/:codes: reply with a status, e.g. /status/418 or /status/200:3,503:1</li>
<li>/delay/:seconds: reply after a delay (at most 10 s)</li>
<li>/bytes/:n, /stream/:n: n random bytes, n JSON lines</li>
</ul>
</body></html>
`;
