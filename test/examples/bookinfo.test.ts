// Bookinfo end to end: the four apps as processes, their calls carried by a stand-in sidecar via HTTP_PROXY.

import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { MiniMesh } from './helpers/mini-mesh.js';
import { type SpawnedApp, spawnApp } from './helpers/spawn-app.js';

const apps: Record<string, SpawnedApp> = {};
let mesh: MiniMesh;
let base: string;

/** Like virtual-service-reviews-test-v2 plus test hooks: jason → v2; x-request-id `v2-…`/`v3-…` pick a version. */
function reviewsVersion(headers: IncomingHttpHeaders): string {
  const id = String(headers['x-request-id'] ?? '');
  if (id.startsWith('v3-')) return 'v3';
  if (id.startsWith('v2-') || headers['end-user'] === 'jason') return 'v2';
  return 'v1';
}

before(async () => {
  mesh = new MiniMesh({
    route: (authority, headers) => {
      const app = {
        'details:9080': 'details',
        'ratings:9080': 'ratings',
        'reviews:9080': `reviews-${reviewsVersion(headers)}`,
      }[authority];
      return app ? `127.0.0.1:${apps[app]!.port}` : undefined;
    },
  });
  await mesh.start();
  const proxied = { HTTP_PROXY: mesh.url };
  const started = await Promise.all([
    spawnApp({ script: 'bookinfo/src/details/main.js', args: ['0'], env: proxied }),
    spawnApp({ script: 'bookinfo/src/ratings/main.js', args: ['0'], env: proxied }),
    ...['v1', 'v2', 'v3'].map((v) =>
      spawnApp({
        script: 'bookinfo/src/reviews/main.js',
        args: ['0'],
        env: {
          ...proxied,
          POD_NAME: `reviews-${v}-7f9c`,
          ENABLE_RATINGS: v === 'v1' ? 'false' : 'true',
          ...(v === 'v3' ? { STAR_COLOR: 'red' } : {}),
        },
      }),
    ),
    spawnApp({ script: 'bookinfo/src/productpage/main.js', args: ['0'], env: proxied }),
  ]);
  const names = ['details', 'ratings', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'productpage'];
  names.forEach((n, i) => {
    apps[n] = started[i]!;
  });
  base = `http://127.0.0.1:${apps.productpage!.port}`;
});

after(async () => {
  await Promise.all(Object.values(apps).map((a) => a.stop()));
  await mesh?.stop();
});

async function page(
  headers: Record<string, string> = {},
): Promise<{ html: string; ms: number; status: number }> {
  const t0 = performance.now();
  const res = await fetch(`${base}/productpage`, { headers });
  return { html: await res.text(), ms: performance.now() - t0, status: res.status };
}

const count = (html: string, needle: string) => html.split(needle).length - 1;
const FULL = 'class="glyphicon glyphicon-star"';
const EMPTY = 'class="glyphicon glyphicon-star-empty"';

test('the product page is the Simple Bookstore App with the book details and reviews v1 without stars', async () => {
  const { html, status } = await page({ 'x-request-id': 'v1-page' });
  assert.equal(status, 200);
  assert.match(html, /<title>Simple Bookstore App<\/title>/);
  assert.match(html, /The Comedy of Errors/);
  assert.match(html, /Book Details/);
  assert.match(html, /<dt>Type:<\/dt>paperback/);
  assert.match(html, /<dt>Publisher:<\/dt>PublisherA/);
  assert.match(html, /Book Reviews/);
  assert.match(html, /Reviewer1/);
  assert.match(html, /Reviewer2/);
  assert.equal(count(html, FULL) + count(html, EMPTY), 0);
  assert.match(html, /Reviews served by: reviews-v1-7f9c/);
  assert.equal(mesh.to('ratings:9080', 'v1-page').length, 0, 'reviews v1 never calls ratings');
});

test('reviews v2 renders 5 and 4 black stars, v3 the same in red', async () => {
  for (const [version, color] of [
    ['v2', 'black'],
    ['v3', 'red'],
  ]) {
    const { html } = await page({ 'x-request-id': `${version}-stars` });
    assert.equal(count(html, FULL), 9, `${version}: 5 + 4 full stars`);
    assert.equal(count(html, EMPTY), 1, `${version}: one empty star for Reviewer2`);
    assert.equal(count(html, `<font color="${color}">`), 2);
    assert.equal(count(html, '<font color='), 2, `${version}: no other colour`);
    assert.match(html, new RegExp(`Reviews served by: reviews-${version}-7f9c`));
    assert.equal(mesh.to('ratings:9080', `${version}-stars`).length, 1);
  }
});

test('signing in as jason sends end-user: jason to reviews and on to ratings; signing out stops it', async () => {
  const login = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', referer: `${base}/productpage` },
    body: 'username=jason&passwd=anything',
  });
  assert.equal(login.status, 302);
  assert.equal(login.headers.get('location'), `${base}/productpage`, 'back to the referrer');
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  assert.match(cookie, /^session=/);

  const signedIn = await page({ cookie, 'x-request-id': 'jason-1' });
  assert.match(signedIn.html, /jason \( <a href="logout">sign out<\/a> \)/);
  assert.equal(count(signedIn.html, FULL), 9, 'jason is routed to reviews v2 by the header');
  assert.equal(mesh.to('reviews:9080', 'jason-1')[0]?.headers['end-user'], 'jason');
  assert.equal(mesh.to('details:9080', 'jason-1')[0]?.headers['end-user'], 'jason');
  assert.equal(
    mesh.to('ratings:9080', 'jason-1')[0]?.headers['end-user'],
    'jason',
    'reviews forwards end-user',
  );

  const forged = await page({ cookie: `${cookie.slice(0, -3)}abc`, 'x-request-id': 'forged-1' });
  assert.match(forged.html, /Sign in/);
  assert.equal(
    mesh.to('reviews:9080', 'forged-1')[0]?.headers['end-user'],
    undefined,
    'a tampered cookie is no one',
  );

  const logout = await fetch(`${base}/logout`, {
    redirect: 'manual',
    headers: { cookie, referer: `${base}/productpage` },
  });
  assert.equal(logout.status, 302);
  assert.match(logout.headers.get('set-cookie')!, /^session=;.*Max-Age=0/);
  const signedOut = await page({ 'x-request-id': 'jason-2' });
  assert.match(signedOut.html, /Sign in/);
  assert.equal(mesh.to('reviews:9080', 'jason-2')[0]?.headers['end-user'], undefined);
});

test('trace headers reach details and ratings unchanged; other headers and a client-sent end-user do not', async () => {
  const trace = {
    'x-request-id': 'v2-trace-0001',
    'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
    'x-b3-spanid': 'e457b5a2e4d86bd1',
    'x-b3-parentspanid': '05e3ac9a4f6e3b90',
    'x-b3-sampled': '1',
    'x-b3-flags': '0',
    traceparent: '00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01',
    tracestate: 'vendor=abc',
    'user-agent': 'bookinfo-test/1.0',
    authorization: 'Bearer token-123',
  };
  const { status } = await page({ ...trace, 'x-private': 'secret', 'end-user': 'admin' });
  assert.equal(status, 200);
  for (const authority of ['details:9080', 'reviews:9080', 'ratings:9080']) {
    const [carried] = mesh.to(authority, trace['x-request-id']);
    assert.ok(carried, `${authority} was called`);
    for (const [name, value] of Object.entries(trace))
      assert.equal(carried.headers[name], value, `${authority} ${name}`);
    assert.equal(carried.headers['x-private'], undefined, `${authority} gets no unlisted header`);
    assert.equal(
      carried.headers['end-user'],
      undefined,
      `${authority}: end-user comes only from the session`,
    );
  }
});

test('outbound calls go through HTTP_PROXY in absolute form', async () => {
  await page({ 'x-request-id': 'v1-proxy' });
  const [reviews] = mesh.to('reviews:9080', 'v1-proxy');
  assert.equal(reviews?.rawUrl, 'http://reviews:9080/reviews/0');
  assert.ok(mesh.carried.every((r) => /^http:\/\/(details|reviews|ratings):9080\//.test(r.rawUrl)));
});

describe('failures the Istio tasks inject', { concurrency: true }, () => {
  test('a hung reviews costs two 3 s attempts: the page answers after about 6 s with the reviews error', async () => {
    mesh.faults.push({
      authority: 'reviews:9080',
      when: (h) => h['x-request-id'] === 'hang-1',
      action: { hang: true },
    });
    const { html, ms, status } = await page({ 'x-request-id': 'hang-1' });
    assert.equal(status, 200);
    assert.ok(ms >= 5800 && ms < 9000, `answered after ${Math.round(ms)} ms, expected about 6000`);
    assert.match(html, /Error fetching product reviews/);
    assert.match(html, /Sorry, product reviews are currently unavailable for this book\./);
    assert.match(html, /Book Details/, 'details are unaffected');
    assert.equal(mesh.to('reviews:9080', 'hang-1').length, 2, 'productpage tries reviews exactly twice');
  });

  test('ratings aborted with 500: the page loads at once with the ratings error instead of stars', async () => {
    mesh.faults.push({
      authority: 'ratings:9080',
      when: (h) => h['x-request-id'] === 'v2-abort',
      action: { abort: 500 },
    });
    const { html, ms } = await page({ 'x-request-id': 'v2-abort' });
    assert.ok(ms < 2500, `answered after ${Math.round(ms)} ms`);
    assert.equal(count(html, 'Ratings service is currently unavailable'), 2);
    assert.equal(count(html, FULL), 0);
    assert.match(html, /Book Reviews/);
  });

  test('reviews v3 gives up on a hung ratings after 2.5 s and still answers', async () => {
    mesh.faults.push({
      authority: 'ratings:9080',
      when: (h) => h['x-request-id'] === 'v3-hang',
      action: { hang: true },
    });
    const { html, ms } = await page({ 'x-request-id': 'v3-hang' });
    assert.ok(ms >= 2400 && ms < 5000, `answered after ${Math.round(ms)} ms, expected about 2500`);
    assert.equal(count(html, 'Ratings service is currently unavailable'), 2);
    assert.equal(mesh.to('reviews:9080', 'v3-hang').length, 1, 'within productpage’s 3 s: no retry');
  });

  test('details failing shows the details error and keeps the reviews', async () => {
    mesh.faults.push({
      authority: 'details:9080',
      when: (h) => h['x-request-id'] === 'no-details',
      action: { abort: 555 },
    });
    const { html } = await page({ 'x-request-id': 'no-details' });
    assert.match(html, /Error fetching product details/);
    assert.match(html, /Sorry, product details are currently unavailable for this book\./);
    assert.match(html, /Book Reviews/);
    assert.equal(mesh.to('details:9080', 'no-details').length, 1, 'details is not retried');
  });
});

test('the JSON API, health and metrics', async () => {
  const json = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { 'x-request-id': `v2-api${path}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const products = await json('/api/v1/products');
  assert.deepEqual(
    (products.body as unknown as { id: number; title: string }[]).map((p) => [p.id, p.title]),
    [[0, 'The Comedy of Errors']],
  );
  const details = await json('/api/v1/products/0');
  assert.equal(details.status, 200);
  assert.deepEqual(details.body, {
    id: 0,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  });
  const reviews = await json('/api/v1/products/0/reviews');
  assert.equal(reviews.body.podname, 'reviews-v2-7f9c');
  assert.equal(reviews.body.clustername, 'null');
  assert.deepEqual(
    (reviews.body.reviews as { rating: unknown }[]).map((r) => r.rating),
    [
      { stars: 5, color: 'black' },
      { stars: 4, color: 'black' },
    ],
  );
  const ratings = await json('/api/v1/products/0/ratings');
  assert.deepEqual(ratings.body, { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
  const bad = await json('/api/v1/products/abc');
  assert.equal(bad.status, 400, 'details rejects a non-numeric id and productpage passes the status on');

  const health = await fetch(`${base}/health`);
  assert.equal(await health.text(), 'Product page is healthy');
  assert.equal((await fetch(`${base}/productpage`, { method: 'POST' })).status, 405);
});

test('/metrics counts backend results, pages served and sign-ins', async () => {
  const read = async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const value = (series: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${series} `))
          ?.split(' ')[1] ?? 0,
      );
    return {
      details: value('request_result_total{destination_app="details",response_code="200"}'),
      reviews: value('request_result_total{destination_app="reviews",response_code="200"}'),
      pages: value('productpage_requests_total{route="productpage",code="200"}'),
      logins: value('productpage_logins_total'),
    };
  };
  const before = await read();
  await page({ 'x-request-id': 'v1-metrics' });
  await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ username: 'kim' }),
  });
  const after = await read();
  assert.deepEqual(
    {
      details: after.details - before.details,
      reviews: after.reviews - before.reviews,
      pages: after.pages - before.pages,
      logins: after.logins - before.logins,
    },
    { details: 1, reviews: 1, pages: 1, logins: 1 },
  );
});

test('every app prints one access line per request', async () => {
  await page({ 'x-request-id': 'v2-logs', 'user-agent': 'log-check/1.0' });
  const line = (
    await apps.productpage!.waitForLines(/"GET \/productpage HTTP\/1\.1" 200 \d+ "-" "log-check\/1\.0"/)
  )[0];
  assert.match(line!, /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] /);
  await apps.ratings!.waitForLines(/"GET \/ratings\/0 HTTP\/1\.1" 200 \d+ "-" "log-check\/1\.0"/);
  await apps['reviews-v2']!.waitForLines(/"GET \/reviews\/0 HTTP\/1\.1" 200 \d+ "-" "log-check\/1\.0"/);
  await apps.details!.waitForLines(/"GET \/details\/0 HTTP\/1\.1" 200 \d+ "-" "log-check\/1\.0"/);
});
