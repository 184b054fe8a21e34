// The one outbound HTTP client of the sample apps, honouring HTTP_PROXY / HTTPS_PROXY / NO_PROXY.

import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { classify, type ExchangeState, HttpRequestError } from './http-errors.js';
import { type ProxyEnv, proxyFor } from './proxy-env.js';

export { type HttpErrorCode, HttpRequestError } from './http-errors.js';

export interface TlsOptions {
  /** Skip certificate verification (curl -k). */
  insecure?: boolean;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface HttpRequestOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Uint8Array;
  /** Deadline for the whole exchange, from the first connect to the last body byte. */
  timeoutMs?: number;
  /** Where proxy settings are read from; process.env by default. */
  env?: ProxyEnv;
  /** Connection pool for plain-HTTP requests (direct or to the proxy); Node's keep-alive global agent by default. */
  agent?: http.Agent;
  tls?: TlsOptions;
}

export interface HttpResponse {
  status: number;
  statusMessage: string;
  httpVersion: string;
  headers: IncomingHttpHeaders;
  /** Header names and values as received, alternating. */
  rawHeaders: string[];
  body: Buffer;
  /** The proxy the request went through, e.g. `http://127.0.0.1:15080`, if any. */
  proxy: string | undefined;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/**
 * Sends one request and buffers the response; Node 20's fetch ignores the proxy variables, hence this client.
 * Rejects only with HttpRequestError.
 */
export async function httpRequest(url: string | URL, opts: HttpRequestOptions = {}): Promise<HttpResponse> {
  let target: URL;
  try {
    target = typeof url === 'string' ? new URL(url) : url;
  } catch (e) {
    throw new HttpRequestError('BAD_URL', `malformed URL "${String(url)}"`, String(url), { cause: e });
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new HttpRequestError('BAD_URL', `unsupported scheme in "${target.href}"`, target.href);
  }
  let proxy: URL | undefined;
  try {
    proxy = proxyFor(target, opts.env ?? process.env);
  } catch (e) {
    throw new HttpRequestError('PROXY_TUNNEL', (e as Error).message, target.href, { cause: e });
  }
  const deadline = opts.timeoutMs === undefined ? undefined : Date.now() + opts.timeoutMs;
  const method = (opts.method ?? 'GET').toUpperCase();
  try {
    return await attempt(target, proxy, opts, deadline);
  } catch (e) {
    // A pooled keep-alive connection the server had already closed: the request never reached it, so send it
    // once more on a fresh connection (what Node's docs and fortio both do).
    if (e instanceof StaleSocketError && IDEMPOTENT.has(method)) {
      return attempt(target, proxy, { ...opts, agent: freshAgent(opts.agent) }, deadline);
    }
    throw e instanceof StaleSocketError ? e.original : e;
  }
}

class StaleSocketError extends Error {
  readonly original: HttpRequestError;
  constructor(original: HttpRequestError) {
    super(original.message);
    this.original = original;
  }
}

function freshAgent(agent: http.Agent | undefined): http.Agent {
  return agent ?? new http.Agent({ keepAlive: false });
}

function attempt(
  target: URL,
  proxy: URL | undefined,
  opts: HttpRequestOptions,
  deadline: number | undefined,
): Promise<HttpResponse> {
  const isHttps = target.protocol === 'https:';
  const state: ExchangeState = { tlsDone: !isHttps, headersReceived: false };
  const headers: OutgoingHttpHeaders = { host: target.host, ...opts.headers };
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  if (body && headers['content-length'] === undefined) headers['content-length'] = body.length;
  const method = (opts.method ?? 'GET').toUpperCase();
  const hostname = unbracket(target.hostname);
  const port = Number(target.port || (isHttps ? 443 : 80));
  const path = `${target.pathname}${target.search}`;

  return new Promise((resolve, reject) => {
    let current: http.ClientRequest | undefined;
    let settled = false;
    const timer =
      deadline === undefined
        ? undefined
        : setTimeout(() => fail(timeoutError()), Math.max(0, deadline - Date.now()));
    const timeoutError = () =>
      new HttpRequestError(
        'TIMEOUT',
        `no complete response from ${target.href} within the deadline`,
        target.href,
      );
    const fail = (e: HttpRequestError | StaleSocketError) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      current?.destroy();
      reject(e);
    };
    const succeed = (r: HttpResponse) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve(r);
    };

    const send = (req: http.ClientRequest) => {
      current = req;
      req.on('socket', (socket: Socket) => {
        if (isHttps && !state.tlsDone) {
          if (req.reusedSocket) state.tlsDone = true;
          else socket.once('secureConnect', () => (state.tlsDone = true));
        }
      });
      req.on('error', (err) => {
        const classified = classify(err, state, target.href);
        const stale = req.reusedSocket && !state.headersReceived && classified.code === 'EMPTY_REPLY';
        fail(stale ? new StaleSocketError(classified) : classified);
      });
      req.on('response', (res) => {
        state.headersReceived = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => fail(classify(err, state, target.href)));
        res.on('end', () => {
          if (!res.complete) {
            fail(
              new HttpRequestError('RESET', `${target.href}: connection closed mid-response`, target.href),
            );
            return;
          }
          succeed({
            status: res.statusCode ?? 0,
            statusMessage: res.statusMessage ?? '',
            httpVersion: res.httpVersion,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body: Buffer.concat(chunks),
            proxy: proxy?.origin,
          });
        });
      });
      req.end(body);
    };

    const tlsOptions = {
      servername: isIpLiteral(hostname) ? undefined : hostname,
      rejectUnauthorized: !opts.tls?.insecure,
      ca: opts.tls?.ca,
      cert: opts.tls?.cert,
      key: opts.tls?.key,
    };

    if (!isHttps) {
      // Through a proxy the request line carries the absolute URL: `GET http://reviews:9080/reviews/0 HTTP/1.1`.
      send(
        http.request({
          host: proxy ? unbracket(proxy.hostname) : hostname,
          port: proxy ? Number(proxy.port || 80) : port,
          path: proxy ? target.href : path,
          method,
          headers: withProxyAuth(headers, proxy),
          agent: opts.agent,
        }),
      );
      return;
    }
    if (!proxy) {
      send(https.request({ host: hostname, port, path, method, headers, ...tlsOptions }));
      return;
    }
    // HTTPS through a proxy: CONNECT a tunnel, then speak TLS to the origin inside it.
    const connect = http.request({
      host: unbracket(proxy.hostname),
      port: Number(proxy.port || 80),
      method: 'CONNECT',
      path: `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`,
      headers: withProxyAuth({ host: `${hostname}:${port}` }, proxy),
      agent: false,
    });
    current = connect;
    connect.on('error', (err) => fail(classify(err, state, target.href)));
    connect.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        fail(
          new HttpRequestError(
            'PROXY_TUNNEL',
            `proxy ${proxy.origin} refused CONNECT to ${target.host}: ${res.statusCode}`,
            target.href,
          ),
        );
        return;
      }
      // `host` names the origin for certificate checks; without it Node checks against `localhost`.
      const secure = tls.connect({ socket, host: hostname, ...tlsOptions });
      secure.once('secureConnect', () => (state.tlsDone = true));
      // No `agent`: Node only uses createConnection when the request has none.
      send(https.request({ host: hostname, port, path, method, headers, createConnection: () => secure }));
    });
    connect.end();
  });
}

function withProxyAuth(headers: OutgoingHttpHeaders, proxy: URL | undefined): OutgoingHttpHeaders {
  if (!proxy || proxy.username === '') return headers;
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { ...headers, 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
