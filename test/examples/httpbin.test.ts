// httpbin as Istio's tasks use it: the echo endpoints' JSON shapes, status codes, delays, bytes, streams, access log.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type SpawnedApp, spawnApp } from './helpers/spawn-app.js';

let app: SpawnedApp;
let base: string;

before(async () => {
  app = await spawnApp({ script: 'httpbin/src/main.js', args: ['0'] });
  base = `http://127.0.0.1:${app.port}`;
});
after(() => app.stop());

async function call(path: string, init: RequestInit = {}) {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

test('/get echoes args, Title-Cased headers, origin and url, hiding the hosting headers unless show_env', async () => {
  const { status, json } = await call('/get?a=1&b=2&b=3', {
    headers: {
      'x-b3-traceid': 'abc',
      'x-request-id': 'rid-1',
      'x-forwarded-proto': 'https',
      'user-agent': 'ua/1',
    },
  });
  assert.equal(status, 200);
  assert.deepEqual(Object.keys(json!), ['args', 'headers', 'origin', 'url']);
  assert.deepEqual(json!.args, { a: '1', b: ['2', '3'] });
  const headers = json!.headers as Record<string, string>;
  assert.equal(headers['X-B3-Traceid'], 'abc');
  assert.equal(headers['User-Agent'], 'ua/1');
  assert.equal(headers['Host'], `127.0.0.1:${app.port}`);
  assert.equal(headers['X-Request-Id'], undefined, 'x-request-id is an environment header');
  assert.equal(json!.origin, '127.0.0.1');
  assert.equal(json!.url, `https://127.0.0.1:${app.port}/get?a=1&b=2&b=3`, 'scheme from X-Forwarded-Proto');
  const shown = await call('/headers?show_env=1', { headers: { 'x-request-id': 'rid-2' } });
  assert.equal((shown.json!.headers as Record<string, string>)['X-Request-Id'], 'rid-2');
});

test('/post, /put, /delete and /anything echo bodies; the wrong method is 405', async () => {
  const posted = await call('/post', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"x":[1,2]}',
  });
  assert.deepEqual(Object.keys(posted.json!), [
    'args',
    'data',
    'files',
    'form',
    'headers',
    'json',
    'origin',
    'url',
  ]);
  assert.equal(posted.json!.data, '{"x":[1,2]}');
  assert.deepEqual(posted.json!.json, { x: [1, 2] });
  const form = await call('/put', { method: 'PUT', body: new URLSearchParams({ k: 'v' }) });
  assert.deepEqual(form.json!.form, { k: 'v' });
  assert.equal(form.json!.data, '');
  assert.equal((await call('/delete', { method: 'DELETE' })).status, 200);
  const anything = await call('/anything/x/y?q=1', { method: 'PATCH', body: 'raw' });
  assert.equal(anything.json!.method, 'PATCH');
  assert.equal(anything.json!.data, 'raw');
  assert.equal(anything.json!.json, null);
  const wrong = await call('/post');
  assert.equal(wrong.status, 405);
  assert.match(wrong.headers.get('allow')!, /POST/);
  assert.equal((await call('/nope')).status, 404);
});

test('/headers, /ip, /user-agent and /uuid', async () => {
  const ip = await call('/ip', { headers: { 'x-forwarded-for': '10.1.2.3' } });
  assert.deepEqual(ip.json, { origin: '10.1.2.3' });
  assert.deepEqual((await call('/user-agent', { headers: { 'user-agent': 'probe/2' } })).json, {
    'user-agent': 'probe/2',
  });
  const { json } = await call('/uuid');
  assert.match(String(json!.uuid), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const headers = await call('/headers', { headers: { 'x-envoy-attempt-count': '1' } });
  assert.equal((headers.json!.headers as Record<string, string>)['X-Envoy-Attempt-Count'], '1');
});

test('/status/<codes> answers the code (or one of a weighted list) with httpbin’s extras', async () => {
  const teapot = await call('/status/418');
  assert.equal(teapot.status, 418);
  assert.match(teapot.text, /teapot/);
  assert.equal(teapot.headers.get('x-more-info'), 'http://tools.ietf.org/html/rfc2324');
  const unavailable = await call('/status/503', { method: 'POST' });
  assert.equal(unavailable.status, 503);
  assert.equal(unavailable.text, '');
  const redirect = await call('/status/302', { redirect: 'manual' });
  assert.equal(redirect.headers.get('location'), '/redirect/1');
  const head = await fetch(`${base}/status/200`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal((await call('/status/abc')).status, 400);
  const seen = new Set<number>();
  for (let i = 0; i < 20; i++) seen.add((await call('/status/201,202:1')).status);
  assert.ok([...seen].every((s) => s === 201 || s === 202));
});

test('/delay/<seconds> answers after the delay', async () => {
  const t0 = performance.now();
  const { status, json } = await call('/delay/0.3?x=1');
  const ms = performance.now() - t0;
  assert.equal(status, 200);
  assert.ok(ms >= 290, `answered after ${Math.round(ms)} ms`);
  assert.deepEqual(Object.keys(json!), ['args', 'data', 'files', 'form', 'headers', 'origin', 'url']);
  assert.equal((await call('/delay/soon')).status, 400);
});

test('/bytes/<n> sends n random bytes (repeatable with a seed, at most 100 KiB); /stream/<n> sends n JSON lines', async () => {
  const bytes = await fetch(`${base}/bytes/16`);
  assert.equal(bytes.headers.get('content-type'), 'application/octet-stream');
  assert.equal((await bytes.arrayBuffer()).byteLength, 16);
  const a = Buffer.from(await (await fetch(`${base}/bytes/64?seed=7`)).arrayBuffer());
  const b = Buffer.from(await (await fetch(`${base}/bytes/64?seed=7`)).arrayBuffer());
  assert.ok(a.equals(b));
  assert.equal((await (await fetch(`${base}/bytes/500000`)).arrayBuffer()).byteLength, 100 * 1024);
  const stream = await call('/stream/3');
  const lines = stream.text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: number; url: string });
  assert.deepEqual(
    lines.map((l) => l.id),
    [0, 1, 2],
  );
  assert.equal(lines[0]!.url, `http://127.0.0.1:${app.port}/stream/3`);
  assert.equal((await call('/stream/1000')).text.trim().split('\n').length, 100);
});

test('each request prints a combined-format access line', async () => {
  await call('/headers', { headers: { 'user-agent': 'mirror-check/1' } });
  await app.waitForLines(
    /^127\.0\.0\.1 - - \[.+\] "GET \/headers HTTP\/1\.1" 200 \d+ "-" "mirror-check\/1"$/,
  );
});
