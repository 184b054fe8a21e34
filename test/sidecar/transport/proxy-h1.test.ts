// HTTP/1.1 through a proxy built from the transport: the behaviours a client and an upstream can see.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { ManualClock } from '../../../src/shared/clock.js';
import { EMPTY_BODY, PushBody, readBody } from '../../../src/sidecar/http/body.js';
import { HeaderList } from '../../../src/sidecar/http/headers.js';
import { type Handler, localReply, type ProxyRequest } from '../../../src/sidecar/http/message.js';
import { HttpServer } from '../../../src/sidecar/http/server.js';
import { isUpstreamError } from '../../../src/sidecar/upstream/pool/errors.js';
import { Http1Pool } from '../../../src/sidecar/upstream/pool/h1-pool.js';
import { header, listen, RawClient, scriptedUpstream, startProxy } from './helpers.js';

/** The router's job in miniature: forward, and turn upstream failures into local replies with their flag. */
function forwardTo(pool: Http1Pool): Handler {
  return async (req, ctx) => {
    try {
      return await pool.request(req, { signal: ctx.signal });
    } catch (e) {
      if (isUpstreamError(e))
        return localReply({ status: 503, body: 'upstream failed\n', reason: `${e.flag} ${e.message}` });
      throw e;
    }
  };
}

let echo: http.Server;
let echoPort: number;
let echoConnections = 0;

before(async () => {
  echo = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (req.url === '/cookies') res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
      res.setHeader('x-method', req.method!);
      res.setHeader('x-url', req.url!);
      res.setHeader('x-host', req.headers.host ?? '');
      res.end(`${req.method} ${req.url} ${body}`);
    });
  });
  echo.on('connection', () => echoConnections++);
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as AddressInfo).port;
});

after(() => {
  echo.closeAllConnections();
  echo.close();
});

test('keep-alive: one client connection and one upstream connection carry many exchanges', async () => {
  const proxy = await startProxy(echoPort);
  const before = echoConnections;
  const client = await RawClient.open(proxy.port);
  for (let i = 0; i < 5; i++) {
    client.write(`POST /k${i} HTTP/1.1\r\nHost: echo\r\nContent-Length: 1\r\n\r\n${i}`);
    const res = await client.responses(i + 1);
    assert.equal(res[i]!.status, 200);
    assert.equal(res[i]!.body.toString(), `POST /k${i} ${i}`);
    assert.equal(res[i]!.keepAlive, true);
  }
  assert.equal(echoConnections - before, 1, 'the pool reused its upstream connection');
  assert.equal(proxy.pool.stats.idle, 1);
  assert.equal(client.socket.destroyed, false);
  client.close();
  await proxy.close();
});

test('pipelined requests are answered in order, each exactly once', async () => {
  const proxy = await startProxy(echoPort);
  const client = await RawClient.open(proxy.port);
  client.write(
    'GET /p1 HTTP/1.1\r\nHost: echo\r\n\r\n' +
      'POST /p2 HTTP/1.1\r\nHost: echo\r\nContent-Length: 4\r\n\r\nbody' +
      'GET /p3 HTTP/1.1\r\nHost: echo\r\n\r\n',
  );
  const res = await client.responses(3);
  assert.deepEqual(
    res.map((r) => r.body.toString()),
    ['GET /p1 ', 'POST /p2 body', 'GET /p3 '],
  );
  client.close();
  await proxy.close();
});

test('chunked both ways, with trailers, is re-framed and forwarded', async () => {
  const upstream = await scriptedUpstream(
    () =>
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '3;ext=1\r\nabc\r\n4\r\ndefg\r\n0\r\ngrpc-status: 0\r\nx-checksum: 7\r\n\r\n',
  );
  const proxy = await startProxy(upstream.port);
  const client = await RawClient.open(proxy.port);
  client.write(
    'POST /up HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\nTE: trailers\r\n\r\n' +
      '5\r\nhello\r\n6;x="y"\r\n world\r\n0\r\nx-digest: abc\r\n\r\n',
  );
  const [res] = await client.responses(1);
  const [req] = upstream.requests;
  assert.equal(req!.body.toString(), 'hello world');
  assert.deepEqual(req!.trailers, [['x-digest', 'abc']]);
  assert.equal(header(req!.headers, 'transfer-encoding'), 'chunked');
  assert.equal(header(req!.headers, 'te'), 'trailers');
  assert.equal(res!.body.toString(), 'abcdefg');
  assert.equal(header(res!.headers, 'transfer-encoding'), 'chunked');
  assert.deepEqual(res!.trailers, [
    ['grpc-status', '0'],
    ['x-checksum', '7'],
  ]);
  client.close();
  await proxy.close();
  await upstream.close();
});

test('HEAD, 204 and 304 carry no body, and the connection stays in step afterwards', async () => {
  const upstream = await scriptedUpstream((req) => {
    if (req.method === 'HEAD')
      return 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/html\r\n\r\n';
    if (req.url === '/204') return 'HTTP/1.1 204 No Content\r\n\r\n';
    if (req.url === '/304') return 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 99\r\n\r\n';
    return 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast';
  });
  const proxy = await startProxy(upstream.port);
  const client = await RawClient.open(proxy.port);
  client.write(
    'HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /204 HTTP/1.1\r\nHost: a\r\n\r\n' +
      'GET /304 HTTP/1.1\r\nHost: a\r\n\r\nGET /last HTTP/1.1\r\nHost: a\r\n\r\n',
  );
  const res = await client.responses(4, [true, false, false, false]);
  assert.equal(header(res[0]!.headers, 'content-length'), '1234', 'HEAD keeps the representation length');
  assert.equal(res[0]!.body.length, 0);
  assert.equal(res[1]!.status, 204);
  assert.equal(header(res[1]!.headers, 'content-length'), undefined);
  assert.equal(res[2]!.status, 304);
  assert.equal(header(res[2]!.headers, 'etag'), '"x"');
  assert.equal(res[3]!.body.toString(), 'last');
  client.close();
  await proxy.close();
  await upstream.close();
});

test('two Set-Cookie headers stay two', async () => {
  const proxy = await startProxy(echoPort);
  const client = await RawClient.open(proxy.port);
  client.write('GET /cookies HTTP/1.1\r\nHost: echo\r\n\r\n');
  const [res] = await client.responses(1);
  assert.deepEqual(
    res!.headers.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v),
    ['a=1; Path=/', 'b=2; Path=/'],
  );
  client.close();
  await proxy.close();
});

test('Expect: 100-continue gets 100 only once the body is wanted; an early answer skips it and closes', async () => {
  const proxy = await startProxy(echoPort, {
    handler: async (req, ctx) => {
      if (req.path === '/too-big') return localReply({ status: 413, body: 'too big\n' });
      return proxy.pool.request(req, { signal: ctx.signal });
    },
  });
  const client = await RawClient.open(proxy.port);
  client.write('PUT /upload HTTP/1.1\r\nHost: echo\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
  await client.until((b) => b.toString().includes('\r\n\r\n'));
  assert.match(client.received.toString(), /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
  client.write('12345');
  await client.until((b) => b.toString().includes('PUT /upload 12345'));
  client.close();

  const early = await RawClient.open(proxy.port);
  early.write(
    'PUT /too-big HTTP/1.1\r\nHost: echo\r\nExpect: 100-continue\r\nContent-Length: 5000000\r\n\r\n',
  );
  const [res] = await early.responses(1);
  assert.equal(res!.status, 413);
  assert.equal(header(res!.headers, 'connection'), 'close');
  assert.doesNotMatch(early.received.toString(), /100 Continue/);
  await early.closed;
  await proxy.close();
});

test('an HTTP/1.0 client gets a close-delimited body when the length is unknown', async () => {
  const upstream = await scriptedUpstream(
    () => 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  );
  const proxy = await startProxy(upstream.port);
  const client = await RawClient.open(proxy.port);
  client.write('GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  await client.closed;
  const text = client.received.toString();
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /connection: close\r\n/);
  assert.doesNotMatch(text, /transfer-encoding/i);
  assert.ok(text.endsWith('\r\n\r\nhello'));
  await proxy.close();
  await upstream.close();
});

test('an absolute-form request (explicit proxy) is forwarded in origin-form with its authority', async () => {
  let seen: ProxyRequest | undefined;
  const proxy = await startProxy(echoPort, {
    handler: (req, ctx) => {
      seen = req;
      return proxy.pool.request(req, { signal: ctx.signal });
    },
  });
  const client = await RawClient.open(proxy.port);
  client.write('GET http://reviews:9080/reviews/0?x=1 HTTP/1.1\r\nHost: reviews:9080\r\n\r\n');
  const [res] = await client.responses(1);
  assert.equal(seen?.absoluteForm, true);
  assert.equal(seen?.authority, 'reviews:9080');
  assert.equal(header(res!.headers, 'x-url'), '/reviews/0?x=1');
  assert.equal(header(res!.headers, 'x-host'), 'reviews:9080');
  client.close();
  await proxy.close();
});

test('CONNECT is refused with 405 and a reason unless the listener enables it', async () => {
  const proxy = await startProxy(echoPort);
  const client = await RawClient.open(proxy.port);
  client.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  const [res] = await client.responses(1);
  assert.equal(res!.status, 405);
  assert.match(header(res!.headers, 'x-trellis-reason') ?? '', /CONNECT to "example.com:443" refused/);
  await client.closed;
  await proxy.close();
});

test('a malformed request gets 400 with the reason, reaches no upstream, and closes the connection', async () => {
  const upstream = await scriptedUpstream(() => 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  const proxy = await startProxy(upstream.port);
  const client = await RawClient.open(proxy.port);
  client.write('GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n');
  await client.closed;
  const text = client.received.toString();
  assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.match(text, /x-trellis-reason: DPE invalid header/);
  assert.equal(upstream.bytes(), 0);
  await proxy.close();
  await upstream.close();
});

test('a slow request head times out with 408; an idle keep-alive connection is closed', async () => {
  const clock = new ManualClock();
  const server = new HttpServer({
    handler: async () => localReply({ status: 200, body: 'ok' }),
    clock,
    headersTimeoutMs: 10_000,
    idleTimeoutMs: 60_000,
  });
  let serverData: Promise<void> = Promise.resolve();
  const l = await listen((socket) => {
    serverData = new Promise((resolve) => socket.once('data', () => setImmediate(resolve)));
    server.serve(socket);
  });
  const slow = await RawClient.open(l.port);
  await new Promise((resolve) => setImmediate(resolve));
  slow.write('GET / HTTP/1.1\r\nHo');
  await serverData;
  clock.advance(9_000);
  assert.equal(slow.received.length, 0);
  clock.advance(2_000);
  await slow.closed;
  assert.match(slow.received.toString(), /^HTTP\/1\.1 408 Request Timeout\r\n/);

  const idle = await RawClient.open(l.port);
  await new Promise((resolve) => setImmediate(resolve));
  idle.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await idle.responses(1);
  clock.advance(59_000);
  assert.equal(idle.socket.destroyed, false);
  clock.advance(2_000);
  await idle.closed;
  server.destroy();
  await l.close();
});

test('an unreachable upstream surfaces as UPSTREAM_CONNECT_FAILURE (UF) for the router to answer', async () => {
  const dead = await listen(() => {});
  const port = dead.port;
  await dead.close();
  const pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port } });
  const proxy = await startProxy(port, { handler: forwardTo(pool) });
  const client = await RawClient.open(proxy.port);
  client.write('GET / HTTP/1.1\r\nHost: gone\r\n\r\n');
  const [res] = await client.responses(1);
  assert.equal(res!.status, 503);
  assert.match(
    header(res!.headers, 'x-trellis-reason') ?? '',
    /^UF connect to 127\.0\.0\.1:\d+ failed: ECONNREFUSED/,
  );
  client.close();
  await proxy.close();
  pool.destroy();
});

test('when the client goes away, the handler signal aborts and the upstream exchange is abandoned', async () => {
  let upstreamSocketClosed!: () => void;
  const upstreamClosed = new Promise<void>((resolve) => (upstreamSocketClosed = resolve));
  const upstream = await scriptedUpstream((_req, conn) => {
    conn.socket.on('close', upstreamSocketClosed);
    return undefined; // never answer
  });
  const pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: upstream.port } });
  let aborted: unknown;
  let poolError: unknown;
  const proxy = await startProxy(upstream.port, {
    handler: async (req, ctx) => {
      ctx.signal.addEventListener('abort', () => (aborted = ctx.signal.reason));
      try {
        return await pool.request(req, { signal: ctx.signal });
      } catch (e) {
        poolError = e;
        throw e;
      }
    },
  });
  const client = await RawClient.open(proxy.port);
  client.write('GET /hang HTTP/1.1\r\nHost: a\r\n\r\n');
  await new Promise<void>((resolve) => {
    const check = () => (upstream.requests.length > 0 ? resolve() : setTimeout(check, 5));
    check();
  });
  client.close();
  await upstreamClosed;
  assert.equal((aborted as { code?: string }).code, 'DOWNSTREAM_DISCONNECTED');
  assert.equal((poolError as { code?: string }).code, 'UPSTREAM_DOWNSTREAM_GONE');
  assert.equal((poolError as { flag?: string }).flag, 'DC');
  assert.equal(pool.stats.idle + pool.stats.active, 0, 'the abandoned connection is not pooled');
  await proxy.close();
  pool.destroy();
  await upstream.close();
});

test('a local reply with a streamed body and trailers is framed chunked for HTTP/1.1', async () => {
  const proxy = await startProxy(echoPort, {
    handler: async (req) => {
      const { data } = await readBody(req.body);
      const body = new PushBody();
      body.push(Buffer.from(`got ${data.length}`));
      body.end(new HeaderList({ 'x-done': 'yes' }));
      return { status: 200, headers: new HeaderList(), body };
    },
  });
  const client = await RawClient.open(proxy.port);
  client.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc');
  const [res] = await client.responses(1);
  assert.equal(res!.body.toString(), 'got 3');
  assert.equal(header(res!.headers, 'transfer-encoding'), 'chunked');
  assert.deepEqual(res!.trailers, [['x-done', 'yes']]);
  client.close();
  await proxy.close();
});

test('CONNECT, when the listener allows it, tunnels bytes to whatever socket the handler connects', async () => {
  const target = await listen((socket) => socket.pipe(socket));
  const server = new HttpServer({
    allowConnect: true,
    handler: async (req) => {
      const [, port] = req.authority.split(':');
      const socket = net.connect({ host: '127.0.0.1', port: Number(port) });
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      return { status: 200, headers: new HeaderList(), body: EMPTY_BODY, tunnel: socket };
    },
  });
  const l = await listen((s) => server.serve(s));
  const client = await RawClient.open(l.port);
  client.write(`CONNECT 127.0.0.1:${target.port} HTTP/1.1\r\nHost: 127.0.0.1:${target.port}\r\n\r\n`);
  await client.until((b) => b.includes('\r\n\r\n'));
  assert.match(client.received.toString(), /^HTTP\/1\.1 200 OK\r\n/);
  assert.doesNotMatch(client.received.toString(), /content-length|transfer-encoding/i);
  client.received = Buffer.alloc(0);
  client.write('raw bytes, not HTTP');
  await client.until((b) => b.toString() === 'raw bytes, not HTTP');
  client.close();
  server.destroy();
  await l.close();
  await target.close();
});

test('a connection that never sends a byte is closed after the idle timeout', async () => {
  const clock = new ManualClock();
  const server = new HttpServer({
    handler: async () => localReply({ status: 200 }),
    clock,
    idleTimeoutMs: 30_000,
  });
  let accepted!: () => void;
  const served = new Promise<void>((resolve) => (accepted = resolve));
  const l = await listen((socket) => {
    server.serve(socket);
    accepted();
  });
  const silent = await RawClient.open(l.port);
  await served;
  clock.advance(29_000);
  assert.equal(silent.socket.destroyed, false);
  clock.advance(2_000);
  await silent.closed;
  server.destroy();
  await l.close();
});
