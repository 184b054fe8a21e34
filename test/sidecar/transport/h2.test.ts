// HTTP/2 downstream: h2c prior knowledge, h2 and HTTP/1.1 by ALPN on one TLS listener, stream resets.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import type { Handler, ProxyRequest } from '../../../src/sidecar/http/message.js';
import { HttpServer } from '../../../src/sidecar/http/server.js';
import { Http1Pool } from '../../../src/sidecar/upstream/pool/h1-pool.js';
import { Http2Pool } from '../../../src/sidecar/upstream/pool/h2-pool.js';
import { listen } from './helpers.js';
import { testCert } from './tls-fixture.js';

interface H2Result {
  headers: http2.IncomingHttpHeaders;
  body: string;
  trailers: http2.IncomingHttpHeaders | undefined;
}

function h2request(
  client: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: string,
): Promise<H2Result> {
  return new Promise((resolve, reject) => {
    const req = client.request(headers, { endStream: body === undefined });
    let out = '';
    let resHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    req.on('response', (h) => (resHeaders = h));
    req.on('data', (c: Buffer) => (out += c.toString()));
    req.on('trailers', (t) => (trailers = t));
    req.on('error', reject);
    req.on('close', () => resolve({ headers: resHeaders, body: out, trailers }));
    if (body !== undefined) req.end(body);
  });
}

async function echoBackend(): Promise<{ port: number; close(): void }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.setHeader('x-seen-cookie', req.headers.cookie ?? '');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end(`${req.method} ${req.url} ${req.headers.host} ${body}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

test('h2c with prior knowledge reaches an HTTP/1.1 upstream and back', async () => {
  const backend = await echoBackend();
  const pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: backend.port } });
  let seen: ProxyRequest | undefined;
  const server = new HttpServer({
    handler: (req, ctx) => {
      seen = req;
      return pool.request(req, { signal: ctx.signal });
    },
  });
  const l = await listen((s) => server.serve(s));
  const client = http2.connect(`http://127.0.0.1:${l.port}`);
  const res = await h2request(
    client,
    { ':method': 'POST', ':path': '/h2c?x=1', ':authority': 'echo.default:80', cookie: ['a=1', 'b=2'] },
    'payload',
  );
  assert.equal(res.headers[':status'], 200);
  assert.equal(res.body, 'POST /h2c?x=1 echo.default:80 payload');
  assert.equal(res.headers['x-seen-cookie'], 'a=1; b=2', 'cookie crumbs are joined for HTTP/1.1');
  assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
  assert.equal(seen?.version, '2');
  assert.equal(seen?.authority, 'echo.default:80');
  client.close();
  server.destroy();
  pool.destroy();
  await l.close();
  backend.close();
});

test('one TLS listener serves h2 and HTTP/1.1 by ALPN; h2 goes upstream over TLS with trailers', async () => {
  const { cert, key } = await testCert();
  // Upstream: an h2 server over TLS that answers with a body and trailers.
  const upstream = http2.createSecureServer({ cert, key });
  upstream.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-upstream-trailer': 'done' }));
    stream.end(`upstream saw ${headers[':path']} over ${stream.session?.alpnProtocol}`);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const h2pool = new Http2Pool({
    endpoint: { host: '127.0.0.1', port: (upstream.address() as AddressInfo).port },
    tls: { ca: cert, servername: 'localhost' },
  });
  const handler: Handler = (req, ctx) => h2pool.request(req, { signal: ctx.signal });
  const server = new HttpServer({ handler });
  const listener = tls.createServer({ cert, key, ALPNProtocols: ['h2', 'http/1.1'] }, (s) => server.serve(s));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const port = (listener.address() as AddressInfo).port;

  const client = http2.connect(`https://localhost:${port}`, { ca: cert });
  const res = await h2request(client, { ':path': '/tls', ':authority': 'svc' });
  assert.equal(res.headers[':status'], 200);
  assert.equal(res.body, 'upstream saw /tls over h2');
  assert.equal(res.trailers?.['x-upstream-trailer'], 'done');

  const h1 = await new Promise<{ status: number; body: string; trailers: NodeJS.Dict<string> }>(
    (resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/h1-over-tls',
          createConnection: () =>
            tls.connect({
              port,
              host: '127.0.0.1',
              servername: 'localhost',
              ca: cert,
              ALPNProtocols: ['http/1.1'],
            }),
        },
        (r) => {
          let body = '';
          r.on('data', (c) => (body += c));
          r.on('end', () => resolve({ status: r.statusCode!, body, trailers: r.trailers }));
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
  assert.equal(h1.status, 200);
  assert.equal(h1.body, 'upstream saw /h1-over-tls over h2');
  assert.equal(h1.trailers['x-upstream-trailer'], 'done', 'h2 trailers become chunked trailers');
  assert.equal(server.http2.sessions, 1);
  client.close();
  server.destroy();
  h2pool.destroy();
  listener.close();
  upstream.close();
});

test('a client that resets its h2 stream aborts the exchange and cancels the upstream stream', async () => {
  let upstreamAborted!: () => void;
  const aborted = new Promise<void>((resolve) => (upstreamAborted = resolve));
  let started!: () => void;
  const upstreamStarted = new Promise<void>((resolve) => (started = resolve));
  const upstream = http2.createServer();
  upstream.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.write('first part');
    started();
    stream.on('close', () => {
      if (stream.rstCode === http2.constants.NGHTTP2_CANCEL) upstreamAborted();
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const pool = new Http2Pool({
    endpoint: { host: '127.0.0.1', port: (upstream.address() as AddressInfo).port },
  });
  let reason: unknown;
  const server = new HttpServer({
    handler: (req, ctx) => {
      ctx.signal.addEventListener('abort', () => (reason = ctx.signal.reason));
      return pool.request(req, { signal: ctx.signal });
    },
  });
  const l = await listen((s) => server.serve(s));
  const client = http2.connect(`http://127.0.0.1:${l.port}`);
  const req = client.request({ ':path': '/stream' }, { endStream: true });
  req.on('error', () => {});
  await new Promise<void>((resolve) => req.once('data', () => resolve()));
  await upstreamStarted;
  req.close(http2.constants.NGHTTP2_CANCEL);
  await aborted;
  assert.equal((reason as { code?: string }).code, 'DOWNSTREAM_DISCONNECTED');
  client.close();
  server.destroy();
  pool.destroy();
  await l.close();
  upstream.close();
});
