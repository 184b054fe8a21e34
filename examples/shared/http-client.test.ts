// Tests of the shared client against a loopback server: proxy form, failure classes, stale-connection retry.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { HttpRequestError, httpRequest } from './http-client.js';

let server: http.Server;
let base: string;
const received: { url: string; headers: http.IncomingHttpHeaders }[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    received.push({ url: req.url!, headers: req.headers });
    if (req.url === '/hang') return;
    if (req.url === '/hangup') {
      req.socket.end();
      return;
    }
    if (req.url === '/partial') {
      res.writeHead(200, { 'content-length': 100 });
      res.write('only a little');
      setTimeout(() => req.socket.resetAndDestroy(), 20);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`you asked for ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof HttpRequestError ? e.code : `unexpected ${String(e)}`),
  );

test('through a proxy the request line is absolute and Host names the origin', async () => {
  // The test server plays the proxy: it sees what a sidecar's explicit proxy would see.
  const res = await httpRequest('http://reviews:9080/reviews/0?x=1', {
    env: { HTTP_PROXY: base },
    headers: { 'x-request-id': 'r-1' },
  });
  assert.equal(res.status, 200);
  assert.equal(res.proxy, base);
  const seen = received.at(-1)!;
  assert.equal(seen.url, 'http://reviews:9080/reviews/0?x=1');
  assert.equal(seen.headers.host, 'reviews:9080');
  assert.equal(seen.headers['x-request-id'], 'r-1');
});

test('without a proxy (or bypassed by NO_PROXY) the request goes straight to the origin in origin form', async () => {
  const res = await httpRequest(`${base}/direct`, {
    env: { HTTP_PROXY: 'http://127.0.0.1:1', NO_PROXY: '127.0.0.1' },
  });
  assert.equal(res.body.toString(), 'you asked for /direct');
  assert.equal(received.at(-1)!.url, '/direct');
  assert.equal(res.proxy, undefined);
});

test('failures are classified: connect refused, timeout, empty reply, reset mid-body, bad URL', async () => {
  assert.equal(await code(httpRequest('http://127.0.0.1:1/', { env: {} })), 'CONNECT_FAILED');
  const t0 = performance.now();
  assert.equal(await code(httpRequest(`${base}/hang`, { timeoutMs: 150, env: {} })), 'TIMEOUT');
  assert.ok(performance.now() - t0 < 1500);
  assert.equal(await code(httpRequest(`${base}/hangup`, { env: {} })), 'EMPTY_REPLY');
  assert.equal(await code(httpRequest(`${base}/partial`, { env: {} })), 'RESET');
  assert.equal(await code(httpRequest('not a url', { env: {} })), 'BAD_URL');
  assert.equal(await code(httpRequest('ftp://x/', { env: {} })), 'BAD_URL');
});

test('a request lost on a pooled connection the server was closing is sent once more on a fresh connection', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const served = new WeakSet<object>();
  let requests = 0;
  // The second request on a reused connection meets the server closing it, as when an idle timeout fires.
  const closing = http.createServer((req, res) => {
    requests++;
    if (served.has(req.socket)) {
      req.socket.destroy();
      return;
    }
    served.add(req.socket);
    res.end('fine');
  });
  await new Promise<void>((r) => closing.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(closing.address() as AddressInfo).port}/`;
  try {
    assert.equal((await httpRequest(url, { agent, env: {} })).status, 200);
    assert.equal((await httpRequest(url, { agent, env: {} })).status, 200, 'the retry succeeded');
    assert.equal(requests, 3);
    assert.equal(
      await code(httpRequest(url, { agent, env: {}, method: 'POST', body: 'x' })),
      'EMPTY_REPLY',
      'a POST is not repeated',
    );
  } finally {
    agent.destroy();
    closing.closeAllConnections();
    await new Promise((r) => closing.close(r));
  }
});
