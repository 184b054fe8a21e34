// The HTTP/2 pool over real loopback sessions: multiplexing, stream limits, reconnects, resets.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { test } from 'node:test';
import { bufferBody, EMPTY_BODY, readBody } from '../../http/body.js';
import { createRequest } from '../../http/message.js';
import { isUpstreamError } from './errors.js';
import { Http2Pool } from './h2-pool.js';

interface H2Upstream {
  port: number;
  sessions: number;
  maxActive: number;
  resets: number;
  close(): void;
}

async function h2upstream(
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, up: H2Upstream) => void,
  settings: http2.Settings = {},
): Promise<H2Upstream> {
  const server = http2.createServer({ settings });
  const up: H2Upstream = { port: 0, sessions: 0, maxActive: 0, resets: 0, close: () => {} };
  let active = 0;
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    up.sessions++;
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    active++;
    up.maxActive = Math.max(up.maxActive, active);
    stream.on('close', () => {
      active--;
      if (stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) up.resets++;
    });
    stream.on('error', () => {});
    onStream(stream, headers, up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  up.port = (server.address() as AddressInfo).port;
  up.close = () => {
    for (const s of sessions) s.destroy();
    server.close();
  };
  return up;
}

const get = (path: string) => createRequest({ method: 'GET', path, authority: 'svc' });

test('concurrent requests share one multiplexed session', async () => {
  const up = await h2upstream((stream, headers) => {
    stream.respond({ ':status': 200 });
    setTimeout(() => stream.end(String(headers[':path'])), 5);
  });
  const pool = new Http2Pool({ endpoint: { host: '127.0.0.1', port: up.port } });
  const bodies = await Promise.all(
    Array.from({ length: 10 }, async (_, i) =>
      (await readBody((await pool.request(get(`/${i}`))).body)).data.toString(),
    ),
  );
  assert.deepEqual(
    bodies,
    Array.from({ length: 10 }, (_, i) => `/${i}`),
  );
  assert.equal(up.sessions, 1);
  assert.ok(up.maxActive > 1, 'streams overlapped');
  pool.destroy();
  up.close();
});

test("the peer's SETTINGS_MAX_CONCURRENT_STREAMS is honoured: extra requests wait for a free stream", async () => {
  const up = await h2upstream(
    (stream) => {
      stream.respond({ ':status': 200 });
      setTimeout(() => stream.end('ok'), 10);
    },
    { maxConcurrentStreams: 2 },
  );
  const pool = new Http2Pool({ endpoint: { host: '127.0.0.1', port: up.port } });
  const all = await Promise.all(Array.from({ length: 6 }, async () => (await pool.request(get('/'))).status));
  assert.deepEqual(all, [200, 200, 200, 200, 200, 200]);
  assert.equal(up.maxActive, 2);
  assert.equal(up.sessions, 1);
  pool.destroy();
  up.close();
});

test('after the upstream closes a session, the next request gets a new one', async () => {
  const up = await h2upstream((stream) => {
    stream.respond({ ':status': 200 });
    stream.end('bye');
    stream.session?.close();
  });
  const pool = new Http2Pool({ endpoint: { host: '127.0.0.1', port: up.port } });
  for (let i = 0; i < 3; i++) {
    const res = await pool.request(get('/'));
    assert.equal((await readBody(res.body)).data.toString(), 'bye');
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(up.sessions, 3);
  pool.destroy();
  up.close();
});

test('finished streams are never reset, so thousands of requests do not trip rapid-reset protection', async () => {
  const up = await h2upstream((stream) => {
    stream.respond({ ':status': 200 }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end('x');
  });
  const pool = new Http2Pool({ endpoint: { host: '127.0.0.1', port: up.port } });
  let done = 0;
  const worker = async () => {
    while (done < 3000) {
      done++;
      const res = await pool.request(
        createRequest({ method: 'POST', path: '/', authority: 'svc', body: bufferBody('hi') }),
      );
      const { trailers } = await readBody(res.body);
      assert.equal(trailers?.get('grpc-status'), '0');
      // Cancelling after the end must be a no-op, not an RST_STREAM.
      res.body.cancel();
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  assert.equal(up.sessions, 1);
  assert.equal(up.resets, 0);
  pool.destroy();
  up.close();
});

test('a trailers-only response (gRPC error) comes back as headers with an empty body', async () => {
  const up = await h2upstream((stream) => {
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'not found' },
      { endStream: true },
    );
  });
  const pool = new Http2Pool({ endpoint: { host: '127.0.0.1', port: up.port } });
  const res = await pool.request(get('/pkg.Svc/Get'));
  assert.equal(res.body, EMPTY_BODY);
  assert.equal(res.headers.get('grpc-status'), '5');
  assert.equal(res.headers.get('grpc-message'), 'not found');
  pool.destroy();
  up.close();
});

test('a stream the upstream refuses unprocessed is retried once; other resets are UR errors', async () => {
  let n = 0;
  const up = await h2upstream((stream, headers) => {
    n++;
    if (headers[':path'] === '/refuse-once' && n === 1) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    if (headers[':path'] === '/reset') {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    stream.respond({ ':status': 200 });
    stream.end('second try');
  });
  const pool = new Http2Pool({ endpoint: { host: '127.0.0.1', port: up.port } });
  const res = await pool.request(get('/refuse-once'));
  assert.equal((await readBody(res.body)).data.toString(), 'second try');
  await assert.rejects(pool.request(get('/reset')), (e: unknown) => {
    assert.ok(isUpstreamError(e, 'UPSTREAM_RESET_BEFORE_RESPONSE'));
    assert.equal(e.flag, 'UR');
    return true;
  });
  pool.destroy();
  up.close();
});

test('a failed connect fails every waiting request with UF', async () => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const pool = new Http2Pool({ endpoint: { host: '127.0.0.1', port } });
  const results = await Promise.allSettled([pool.request(get('/a')), pool.request(get('/b'))]);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.ok(isUpstreamError((r as PromiseRejectedResult).reason, 'UPSTREAM_CONNECT_FAILURE'));
  }
  pool.destroy();
});

test('an HTTP/2 request without a body still gets an empty request body', async () => {
  const up = await h2upstream((stream) => {
    let n = 0;
    stream.on('data', (c: Buffer) => (n += c.length));
    stream.on('end', () => {
      stream.respond({ ':status': 200 });
      stream.end(String(n));
    });
  });
  const pool = new Http2Pool({ endpoint: { host: '127.0.0.1', port: up.port } });
  const res = await pool.request(
    createRequest({ method: 'GET', path: '/', authority: 'svc', body: EMPTY_BODY }),
  );
  assert.equal((await readBody(res.body)).data.toString(), '0');
  pool.destroy();
  up.close();
});
