// Tests of ratings and its misbehaving versions, with injected dice and clock.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createRatingsHandler, type RatingsOptions } from './ratings.js';

async function withRatings(opts: RatingsOptions, fn: (base: string) => Promise<void>): Promise<void> {
  const server = http.createServer(createRatingsHandler(opts));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test('v1 rates every product 5 and 4, keeps posted ratings, and rejects bad input', async () => {
  await withRatings({}, async (base) => {
    assert.deepEqual(await (await fetch(`${base}/ratings/0`)).json(), {
      id: 0,
      ratings: { Reviewer1: 5, Reviewer2: 4 },
    });
    const posted = await fetch(`${base}/ratings/3`, { method: 'POST', body: '{"Reviewer1":1}' });
    assert.deepEqual(await posted.json(), { id: 3, ratings: { Reviewer1: 1 } });
    assert.deepEqual(await (await fetch(`${base}/ratings/3`)).json(), { id: 3, ratings: { Reviewer1: 1 } });
    assert.equal((await fetch(`${base}/ratings/x`)).status, 400);
    assert.equal((await fetch(`${base}/ratings/1`, { method: 'POST', body: 'nope' })).status, 400);
    assert.deepEqual(await (await fetch(`${base}/health`)).json(), { status: 'Ratings is healthy' });
  });
});

test('v-faulty fails when the dice say so; v-unavailable is down in odd minutes; v2 has no database', async () => {
  let roll = 0.3;
  await withRatings({ serviceVersion: 'v-faulty', random: () => roll }, async (base) => {
    assert.equal((await fetch(`${base}/ratings/0`)).status, 503);
    roll = 0.7;
    assert.equal((await fetch(`${base}/ratings/0`)).status, 200);
  });
  let now = 60_000 * 10;
  await withRatings({ serviceVersion: 'v-unavailable', now: () => now }, async (base) => {
    assert.equal((await fetch(`${base}/ratings/0`)).status, 200);
    now += 60_000;
    assert.equal((await fetch(`${base}/ratings/0`)).status, 503);
  });
  await withRatings({ serviceVersion: 'v2' }, async (base) => {
    assert.equal((await fetch(`${base}/ratings/0`)).status, 500);
  });
});

test('v-delayed holds half of the answers for the configured delay', async () => {
  await withRatings({ serviceVersion: 'v-delayed', random: () => 0.1, delayMs: 200 }, async (base) => {
    const t0 = performance.now();
    assert.equal((await fetch(`${base}/ratings/0`)).status, 200);
    assert.ok(performance.now() - t0 >= 190);
  });
});
