// The JWKS cache against a real HTTP endpoint on loopback: first fetch, refresh, failures, limits.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { JwksCache, jwksUrisOf } from './jwks-cache.js';

const KEYS_A = JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', kid: 'a' }] });
const KEYS_B = JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'c', y: 'd', kid: 'b' }] });

/** A JWKS endpoint whose answer each test sets. */
let answer: (res: ServerResponse) => void = (res) => res.end(KEYS_A);
let hits = 0;
let server: Server;
let base: string;

before(async () => {
  server = createServer((_req, res) => {
    hits++;
    answer(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

describe('JWKS cache (control plane)', () => {
  test('a URI is never-fetched until a fetch succeeds, then its document is served', async () => {
    answer = (res) => res.end(KEYS_A);
    const changes: string[] = [];
    const cache = new JwksCache({ clock: new ManualClock(), onChange: (u) => changes.push(u) });
    const uri = `${base}/a`;
    assert.equal(cache.status(uri).state, 'never-fetched');
    cache.track([uri]);
    assert.equal(cache.get(uri), undefined, 'nothing to serve before the first answer');
    await cache.settled();
    assert.equal(cache.get(uri), KEYS_A);
    assert.deepEqual([...cache.snapshot()], [[uri, KEYS_A]]);
    assert.equal(cache.status(uri).state, 'fresh');
    assert.deepEqual(changes, [uri]);
    cache.close();
  });

  test('a failed first fetch stays never-fetched (translation fails closed), with the reason', async () => {
    answer = (res) => {
      res.statusCode = 503;
      res.end('down');
    };
    const cache = new JwksCache({ clock: new ManualClock() });
    const uri = `${base}/down`;
    cache.track([uri]);
    await cache.settled();
    assert.equal(cache.snapshot().has(uri), false);
    assert.deepEqual(cache.status(uri), { state: 'never-fetched', lastError: `${uri} answered 503` });
    cache.close();
  });

  test('refreshes on the interval, keeps the last good copy through failures and bad documents', async () => {
    const clock = new ManualClock();
    answer = (res) => res.end(KEYS_A);
    const changes: string[] = [];
    const cache = new JwksCache({
      clock,
      refreshIntervalMs: 60_000,
      retryBaseMs: 1_000,
      random: () => 0.5,
      onChange: (u) => changes.push(u),
    });
    const uri = `${base}/rotating`;
    cache.track([uri]);
    await cache.settled();
    for (const bad of [
      (res: ServerResponse) => {
        res.statusCode = 500;
        res.end();
      },
      (res: ServerResponse) => res.end('<html>not json</html>'),
      (res: ServerResponse) => res.end('{"keys":[]}'),
      (res: ServerResponse) => res.end('{"keys":[{"kid":"no-kty"}]}'),
    ]) {
      answer = bad;
      clock.advance(60_000);
      await cache.settled();
      assert.equal(cache.get(uri), KEYS_A, 'the last good document is kept');
      assert.equal(cache.status(uri).state, 'stale');
    }
    answer = (res) => res.end(KEYS_B);
    clock.advance(60_000);
    await cache.settled();
    assert.equal(cache.get(uri), KEYS_B);
    assert.equal(cache.status(uri).state, 'fresh');
    assert.deepEqual(changes, [uri, uri]);
    cache.close();
  });

  test('a server that never answers times out', async () => {
    answer = () => {};
    const cache = new JwksCache({ clock: new ManualClock(), timeoutMs: 100 });
    const uri = `${base}/hang`;
    cache.track([uri]);
    await cache.settled();
    assert.match(cache.status(uri).lastError ?? '', /no answer .* within 100 ms/);
    assert.equal(cache.get(uri), undefined);
    cache.close();
  });

  test('documents over the size limit and non-http URIs are refused', async () => {
    answer = (res) => res.end(JSON.stringify({ keys: [{ kty: 'oct', k: 'x'.repeat(5000) }] }));
    const cache = new JwksCache({ clock: new ManualClock(), maxBytes: 1000 });
    cache.track([`${base}/big`, 'file:///etc/passwd']);
    await cache.settled();
    assert.match(cache.status(`${base}/big`).lastError ?? '', /exceeds 1000/);
    assert.match(cache.status('file:///etc/passwd').lastError ?? '', /not http or https/);
    assert.equal(cache.snapshot().size, 0);
    cache.close();
  });

  test('untracked URIs are dropped and no longer fetched', async () => {
    answer = (res) => res.end(KEYS_A);
    const clock = new ManualClock();
    const cache = new JwksCache({ clock, refreshIntervalMs: 1_000 });
    cache.track([`${base}/x`, `${base}/y`]);
    await cache.settled();
    cache.track([`${base}/y`]);
    const before = hits;
    clock.advance(1_000);
    await cache.settled();
    assert.equal(hits - before, 1, 'only /y is refreshed');
    assert.deepEqual([...cache.snapshot().keys()], [`${base}/y`]);
    cache.close();
  });

  test('jwksUrisOf lists jwksUri rules without an inline jwks', () => {
    assert.deepEqual(
      jwksUrisOf([
        { spec: { jwtRules: [{ jwksUri: 'https://a/jwks' }, { jwksUri: 'https://b/jwks', jwks: '{}' }] } },
        { spec: { jwtRules: [{ jwksUri: 'https://a/jwks' }, { jwksUri: 'https://c/jwks' }] } },
        { spec: {} },
      ]),
      ['https://a/jwks', 'https://c/jwks'],
    );
  });
});
