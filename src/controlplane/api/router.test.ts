import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { TrellisError } from '../../shared/errors.js';
import { Reply, Router } from './router.js';

const router = new Router();
let server: Server;
let base: string;

before(async () => {
  router
    .get('/api/v1/traces/:id', ({ params }) => ({ route: 'trace', id: params.id }))
    .get('/api/v1/traces/services', () => ({ route: 'services' }))
    .get('/api/v1/config/:kind/:namespace/:name', ({ params }) => params)
    .post('/api/v1/things', () => new Reply(201, { created: true }, { location: '/api/v1/things/1' }))
    .get('/api/v1/boom', () => {
      throw new Error('disk on fire');
    })
    .get('/api/v1/conflict', () => {
      throw new TrellisError('CONFIG_CONFLICT', 'resourceVersion 3 is stale', { status: 409 });
    })
    .get('/api/v1/gone', () => {
      throw new TrellisError('PROXY_NOT_FOUND', 'no proxy x');
    })
    .get('/files/*', ({ params }) => ({ rest: params['*'] }))
    .raw('GET', '/text', ({ res }) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('hi');
    });
  // Another engineer's routes on the same router: /debug/* by mount, and a catch-all at / (the dashboard).
  router.mount('/debug/', ({ res, url }) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`debug ${url.pathname}`);
  });
  router.mount('/', ({ res }) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('index');
  });
  server = createServer(router.handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

async function get(path: string, init?: RequestInit) {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

test('literal segments outrank parameters, whatever the registration order', async () => {
  assert.deepEqual((await get('/api/v1/traces/services')).json(), { route: 'services' });
  assert.deepEqual((await get('/api/v1/traces/abc')).json(), { route: 'trace', id: 'abc' });
});

test('parameters are percent-decoded; malformed encoding is a 400, not a crash', async () => {
  const r = await get('/api/v1/config/VirtualService/default/a%2Fb');
  assert.deepEqual(r.json(), { kind: 'VirtualService', namespace: 'default', name: 'a/b' });
  const bad = await get('/api/v1/config/vs/default/%E0%A4%A');
  assert.equal(bad.status, 400);
  assert.match(bad.json().error.message, /malformed percent-encoding/);
});

test('wildcards, raw handlers, and Reply with status and headers', async () => {
  assert.deepEqual((await get('/files/a/b%20c.txt')).json(), { rest: 'a/b c.txt' });
  assert.equal((await get('/text')).text, 'hi');
  const created = await get('/api/v1/things', { method: 'POST' });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get('location'), '/api/v1/things/1');
});

test('mounts: longest prefix first, after every route; the catch-all takes the rest', async () => {
  assert.equal((await get('/debug/syncz')).text, 'debug /debug/syncz');
  assert.equal((await get('/anything/else')).text, 'index');
});

test('a wrong method is a 405 naming the allowed ones; HEAD runs GET without a body', async () => {
  const r = await get('/api/v1/traces/abc', { method: 'DELETE' });
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'GET, HEAD');
  const head = await get('/api/v1/traces/abc', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
  assert.equal(head.headers.get('content-type'), 'application/json; charset=utf-8');
});

test('errors become JSON with their code: unknown 500, *_NOT_FOUND 404, details.status honoured', async () => {
  const boom = await get('/api/v1/boom');
  assert.equal(boom.status, 500);
  assert.deepEqual(boom.json(), { error: { code: 'INTERNAL', message: 'internal error: disk on fire' } });
  assert.equal((await get('/api/v1/gone')).status, 404);
  const conflict = await get('/api/v1/conflict');
  assert.equal(conflict.status, 409);
  assert.equal(conflict.json().error.code, 'CONFIG_CONFLICT');
});

test('a router with nothing at a path answers a JSON 404 through its handler', async () => {
  const bare = new Router().get('/x', () => 1);
  const s = createServer(bare.handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/y?z=1`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: { code: 'API_NOT_FOUND', message: 'no route for GET /y' } });
  } finally {
    await new Promise<void>((r) => s.close(() => r()));
  }
});

test('registering the same method and path twice is refused at startup', () => {
  const r = new Router().get('/a/:x', () => 1);
  assert.throws(() => r.get('/a/:x', () => 2), /already registered/);
  assert.throws(() => r.get('/a/*/b', () => 2), /\* must be last/);
});
