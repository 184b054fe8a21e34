// The HTTP/1.1 pool over real loopback sockets: reuse, limits, timeouts, stale retries, error codes.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { test } from 'node:test';
import { ManualClock } from '../../../shared/clock.js';
import { type BodySink, bufferBody, makeReplayable, PushBody, readBody } from '../../http/body.js';
import { DeadlineSweeper } from '../../http/deadlines.js';
import { createRequest, type ProxyResponse } from '../../http/message.js';
import { isUpstreamError } from './errors.js';
import { Http1Pool } from './h1-pool.js';
import type { PoolPolicy } from './policy.js';

interface Upstream {
  port: number;
  /** One entry per accepted connection: the raw requests seen on it. */
  connections: { socket: net.Socket; heads: string[] }[];
  close(): Promise<void>;
}

/**
 * A raw upstream: `respond(head, connIndex, requestIndexOnConn, socket)` answers each request head (requests in
 * these tests carry no body unless they say Content-Length, which the upstream reads and ignores).
 */
async function upstream(
  respond: (head: string, conn: number, nth: number, socket: net.Socket) => string | undefined,
): Promise<Upstream> {
  const connections: Upstream['connections'] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const conn = { socket, heads: [] as string[] };
    const index = connections.push(conn) - 1;
    let buf = '';
    socket.on('error', () => {});
    socket.on('end', () => socket.end());
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        buf = buf.slice(end + 4 + length);
        conn.heads.push(head);
        const out = respond(head, index, conn.heads.length - 1, socket);
        if (out !== undefined && !socket.destroyed) socket.write(out);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const ok = (body: string, extra = '') =>
  `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;

function get(path: string) {
  return createRequest({ method: 'GET', path, authority: 'svc' });
}

async function text(res: ProxyResponse): Promise<string> {
  return (await readBody(res.body)).data.toString();
}

test('the pool grows to the concurrency, then reuses the most recently released connection (LIFO)', async () => {
  const held: (() => void)[] = [];
  const up = await upstream((_head, conn, _nth, socket) => {
    if (held.length < 5 && up.connections[conn]!.heads.length === 1 && conn < 5) {
      held.push(() => socket.write(ok(`c${conn}`)));
      return undefined;
    }
    return ok(`c${conn}`);
  });
  const pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: up.port } });
  const pending = [0, 1, 2, 3, 4].map((i) => pool.request(get(`/${i}`)));
  while (held.length < 5) await new Promise((r) => setTimeout(r, 2));
  assert.equal(up.connections.length, 5, 'one connection per concurrent request');
  assert.equal(pool.stats.active, 5);
  // Release them in order 0..4: connection 4 is the last one back in the idle list.
  for (let i = 0; i < 5; i++) {
    held[i]!();
    await text(await pending[i]!);
  }
  assert.equal(pool.stats.idle, 5);
  assert.equal(await text(await pool.request(get('/next'))), 'c4');
  assert.equal(up.connections.length, 5);
  pool.destroy();
  await up.close();
});

test('a policy refusal keeps requests pending until a connection frees up or wake() is called', async () => {
  let allowed = 0;
  const events: string[] = [];
  const policy: PoolPolicy = {
    mayOpenConnection: (stats) => stats.active + stats.connecting + stats.idle < allowed,
    onConnectionOpened: () => events.push('open'),
    onConnectionClosed: () => events.push('close'),
  };
  const up = await upstream(() => ok('x'));
  const pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: up.port }, policy });
  const first = pool.request(get('/a'));
  assert.equal(pool.stats.pending, 1);
  assert.equal(up.connections.length, 0);
  allowed = 2;
  pool.wake();
  const more = [pool.request(get('/b')), pool.request(get('/c')), pool.request(get('/d'))];
  const all = await Promise.all([first, ...more].map(async (p) => text(await p)));
  assert.deepEqual(all, ['x', 'x', 'x', 'x']);
  assert.equal(up.connections.length, 2, 'never more connections than the policy allowed');
  pool.destroy();
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(events, ['open', 'open', 'close', 'close']);
  await up.close();
});

test('maxRequestsPerConnection retires a connection, asking the upstream to close with the last request', async () => {
  const up = await upstream(() => ok('x'));
  const pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: up.port }, maxRequestsPerConnection: 2 });
  for (let i = 0; i < 5; i++) await text(await pool.request(get(`/${i}`)));
  assert.equal(up.connections.length, 3);
  assert.match(up.connections[0]!.heads[1]!, /\r\nconnection: close$/);
  assert.doesNotMatch(up.connections[0]!.heads[0]!, /connection: close/);
  pool.destroy();
  await up.close();
});

test('an idle connection is closed after the idle timeout', async () => {
  const clock = new ManualClock();
  const up = await upstream(() => ok('x'));
  const pool = new Http1Pool({
    endpoint: { host: '127.0.0.1', port: up.port },
    idleTimeoutMs: 30_000,
    clock,
    sweeper: new DeadlineSweeper({ clock, tickMs: 1000 }),
  });
  await text(await pool.request(get('/')));
  const upstreamSaw = new Promise((resolve) => up.connections[0]!.socket.once('end', resolve));
  clock.advance(29_000);
  assert.equal(pool.stats.idle, 1);
  clock.advance(2_000);
  await upstreamSaw;
  assert.equal(pool.stats.idle, 0);
  pool.destroy();
  await up.close();
});

test('a TLS handshake that never completes fails with UPSTREAM_CONNECT_TIMEOUT (UF)', async () => {
  const clock = new ManualClock();
  const accepted: net.Socket[] = [];
  let onAccept!: () => void;
  const acceptedOnce = new Promise<void>((resolve) => (onAccept = resolve));
  const silent = net.createServer((s) => {
    accepted.push(s);
    onAccept();
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const pool = new Http1Pool({
    endpoint: { host: '127.0.0.1', port: (silent.address() as AddressInfo).port },
    tls: { rejectUnauthorized: false },
    connectTimeoutMs: 5_000,
    clock,
  });
  const res = pool.request(get('/'));
  await acceptedOnce;
  clock.advance(5_000);
  await assert.rejects(res, (e: unknown) => {
    assert.ok(isUpstreamError(e, 'UPSTREAM_CONNECT_TIMEOUT'));
    assert.equal(e.flag, 'UF');
    assert.match(e.message, /timed out after 5000ms \(TCP \+ TLS handshake\)/);
    return true;
  });
  pool.destroy();
  for (const s of accepted) s.destroy();
  silent.close();
});

test('a stale pooled connection is retried once on a fresh one for idempotent or replayable requests only', async () => {
  // The upstream drops every connection's second request without answering: the keep-alive race.
  const up = await upstream((_head, _conn, nth, socket) => {
    if (nth === 1) {
      socket.destroy();
      return undefined;
    }
    return ok('fresh');
  });
  const pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: up.port } });
  await text(await pool.request(get('/warm')));
  assert.equal(await text(await pool.request(get('/again'))), 'fresh');
  assert.equal(up.connections.length, 2, 'the retry went to a new connection');

  const replayable = makeReplayable(bufferBody('payload'), 1024);
  assert.equal(
    await text(
      await pool.request(createRequest({ method: 'POST', path: '/r', authority: 'svc', body: replayable })),
    ),
    'fresh',
  );

  // A POST whose body streams from the client and was not made replayable must not be sent twice.
  await text(await pool.request(get('/warm-3')));
  const streaming = new PushBody({ size: 3 });
  streaming.push(Buffer.from('abc'));
  streaming.end();
  await assert.rejects(
    pool.request(createRequest({ method: 'POST', path: '/once', authority: 'svc', body: streaming })),
    (e: unknown) => isUpstreamError(e, 'UPSTREAM_RESET_BEFORE_RESPONSE') && e.flag === 'UC',
  );
  pool.destroy();
  await up.close();
});

test('a connection whose response body was abandoned is never pooled; a paused-then-resumed one is', async () => {
  const big = 'z'.repeat(512 * 1024);
  const up = await upstream((head) => (head.startsWith('GET /big') ? ok(big) : ok('small')));
  const pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: up.port } });

  // Read one chunk, then walk away.
  const res = await pool.request(get('/big'));
  await new Promise<void>((resolve) => {
    res.body.read({
      onData: () => {
        res.body.cancel(new Error('client left'));
        resolve();
        return false;
      },
      onEnd: () => resolve(),
      onError: () => resolve(),
    });
  });
  assert.equal(pool.stats.idle, 0, 'a half-read connection is not reusable');
  assert.equal(await text(await pool.request(get('/after-cancel'))), 'small');
  assert.equal(up.connections.length, 2);

  // Pause on the first chunk (as a slow client would), resume later: the connection comes back reading.
  const slow = await pool.request(get('/big'));
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    const sink: BodySink = {
      onData: (c) => {
        received += c.length;
        if (received === c.length) {
          setTimeout(() => slow.body.resume(), 20);
          return false;
        }
        return true;
      },
      onEnd: () => resolve(),
      onError: reject,
    };
    slow.body.read(sink);
  });
  await done;
  assert.equal(received, big.length);
  assert.equal(pool.stats.idle, 1);
  assert.equal(
    await text(await pool.request(get('/after-pause'))),
    'small',
    'the reused connection does not hang',
  );
  pool.destroy();
  await up.close();
});

test('failures carry distinct codes: reset after response start, protocol error, timeout, local abort', async () => {
  const up = await upstream((head, _c, _n, socket) => {
    if (head.startsWith('GET /cut')) {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
      setImmediate(() => socket.destroy());
      return undefined;
    }
    if (head.startsWith('GET /bad'))
      return 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx';
    if (head.startsWith('GET /hang')) return undefined;
    return ok('x');
  });
  const pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: up.port } });

  const cut = await pool.request(get('/cut'));
  await assert.rejects(readBody(cut.body), (e: unknown) => {
    assert.ok(isUpstreamError(e, 'UPSTREAM_RESET_AFTER_RESPONSE_START'));
    assert.equal(e.responseStarted, true);
    return true;
  });
  await assert.rejects(
    pool.request(get('/bad')),
    (e: unknown) => isUpstreamError(e, 'UPSTREAM_PROTOCOL_ERROR') && e.flag === 'UPE',
  );

  const timeout = new AbortController();
  const hanging = pool.request(get('/hang'), { signal: timeout.signal });
  while (up.connections.every((c) => !c.heads.some((h) => h.startsWith('GET /hang')))) {
    await new Promise((r) => setTimeout(r, 2));
  }
  timeout.abort(new DOMException('per-try timeout of 50ms', 'TimeoutError'));
  await assert.rejects(
    hanging,
    (e: unknown) => isUpstreamError(e, 'UPSTREAM_REQUEST_TIMEOUT') && e.flag === 'UT',
  );

  const local = new AbortController();
  local.abort(new Error('router gave up'));
  await assert.rejects(pool.request(get('/x'), { signal: local.signal }), (e: unknown) =>
    isUpstreamError(e, 'UPSTREAM_LOCAL_RESET'),
  );
  pool.destroy();
  await up.close();
});

test('a 101 response hands the connection over as a tunnel and out of the pool', async () => {
  const up = await upstream((_h, _c, _n, socket) => {
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nhello',
    );
    socket.on('data', (d: Buffer) => socket.write(d));
    return undefined;
  });
  const pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: up.port } });
  const res = await pool.request(
    createRequest({ method: 'GET', path: '/ws', authority: 'svc', upgrade: 'websocket' }),
  );
  assert.equal(res.status, 101);
  assert.equal(res.upgrade, 'websocket');
  const tunnel = res.tunnel!;
  const firstData = new Promise<string>((resolve) =>
    tunnel.once('data', (d: Buffer) => resolve(d.toString())),
  );
  tunnel.resume();
  const first = await firstData;
  assert.equal(first, 'hello');
  tunnel.write('ping');
  assert.equal(
    await new Promise<string>((resolve) => tunnel.once('data', (d: Buffer) => resolve(d.toString()))),
    'ping',
  );
  assert.equal(pool.stats.idle + pool.stats.active, 0);
  tunnel.destroy();
  pool.destroy();
  await up.close();
});

test('maxConnections caps the pool even when the policy would allow more', async () => {
  const up = await upstream(() => ok('x'));
  const pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: up.port }, maxConnections: 2 });
  const all = await Promise.all(
    Array.from({ length: 8 }, async (_, i) => text(await pool.request(get(`/${i}`)))),
  );
  assert.equal(all.length, 8);
  assert.equal(up.connections.length, 2);
  pool.destroy();
  await up.close();
});

test('a request line a filter made unsafe is refused before anything is written, and the connection stays usable', async () => {
  const up = await upstream(() => ok('x'));
  const pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: up.port } });
  await text(await pool.request(get('/warm')));
  for (const [path, authority] of [
    ['/a HTTP/1.1\r\nHost: evil\r\n\r\nGET /smuggled', 'svc'],
    ['/a b', 'svc'],
    ['/ok', 'svc\r\nx-injected: 1'],
  ] as const) {
    await assert.rejects(pool.request(createRequest({ method: 'GET', path, authority })), (e: unknown) => {
      assert.ok(isUpstreamError(e, 'UPSTREAM_LOCAL_RESET'));
      assert.match(e.message, /refusing to send an unsafe request/);
      return true;
    });
  }
  assert.equal(await text(await pool.request(get('/after'))), 'x');
  assert.deepEqual(
    up.connections.flatMap((c) => c.heads.map((h) => h.split('\r\n')[0])),
    ['GET /warm HTTP/1.1', 'GET /after HTTP/1.1'],
  );
  pool.destroy();
  await up.close();
});
