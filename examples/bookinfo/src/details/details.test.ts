// Tests of details v1 (built-in book) and v2 (Books API through the shared client).

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createDetailsHandler, type DetailsOptions } from './details.js';

async function serve(handler: http.RequestListener): Promise<{ base: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

async function withDetails(opts: DetailsOptions, fn: (base: string) => Promise<void>) {
  const d = await serve(createDetailsHandler(opts));
  try {
    await fn(d.base);
  } finally {
    await d.close();
  }
}

test('v1 answers the built-in book for any numeric id; a non-numeric id is 400', async () => {
  await withDetails({}, async (base) => {
    const body = (await (await fetch(`${base}/details/7`)).json()) as Record<string, unknown>;
    assert.equal(body.id, 7);
    assert.equal(body.publisher, 'PublisherA');
    assert.equal(body['ISBN-13'], '123-1234567890');
    const bad = await fetch(`${base}/details/seven`);
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { error: 'please provide numeric product id' });
  });
});

test('v2 asks the Books API, forwarding trace headers, and maps its answer; a failure is 400 with the cause', async () => {
  let seen: http.IncomingHttpHeaders = {};
  const books = await serve((req, res) => {
    seen = req.headers;
    res.end(
      JSON.stringify({
        items: [
          {
            volumeInfo: {
              authors: ['William Shakespeare'],
              publishedDate: '2002-02-19',
              printType: 'BOOK',
              pageCount: 80,
              publisher: 'Dover Publications',
              language: 'en',
              industryIdentifiers: [
                { type: 'ISBN_10', identifier: '0486424618' },
                { type: 'ISBN_13', identifier: '9780486424613' },
              ],
            },
          },
        ],
      }),
    );
  });
  try {
    await withDetails({ externalBookService: true, externalBaseUrl: books.base }, async (base) => {
      const body = await (await fetch(`${base}/details/0`, { headers: { 'x-request-id': 'd-1' } })).json();
      assert.deepEqual(body, {
        id: 0,
        author: 'William Shakespeare',
        year: '2002-02-19',
        type: 'paperback',
        pages: 80,
        publisher: 'Dover Publications',
        language: 'English',
        'ISBN-10': '0486424618',
        'ISBN-13': '9780486424613',
      });
      assert.equal(seen['x-request-id'], 'd-1');
    });
  } finally {
    await books.close();
  }
  await withDetails({ externalBookService: true, externalBaseUrl: 'http://127.0.0.1:1' }, async (base) => {
    const res = await fetch(`${base}/details/0`);
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /failed to connect/);
  });
});
