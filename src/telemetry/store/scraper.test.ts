import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { eq } from './matchers.js';
import { Scraper } from './scraper.js';
import { TimeSeriesStore } from './tsdb.js';

let server: Server;
let base: string;
let body = 'istio_requests_total{reporter="destination",pod="from-app"} 5\nenvoy_server_live 1\n';

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/broken') res.writeHead(500).end('no');
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

test('scrapes targets into the store with target labels, exported_ on conflicts, and up per target', async () => {
  const store = new TimeSeriesStore({ resolutionMs: 1000 });
  const scraper = new Scraper({ store, intervalMs: 1000 });
  scraper.setTargets([
    {
      url: `${base}/stats/prometheus`,
      labels: { pod: 'reviews-v1-abc', namespace: 'default', role: 'proxy' },
    },
    { url: `${base}/broken`, labels: { pod: 'ratings-v1-def', namespace: 'default', role: 'proxy' } },
  ]);
  await scraper.scrapeOnce();
  const [s] = store.select('istio_requests_total');
  assert.deepEqual(s!.labels, {
    reporter: 'destination',
    pod: 'reviews-v1-abc',
    exported_pod: 'from-app',
    namespace: 'default',
    role: 'proxy',
  });
  assert.equal(store.select('up', [eq('pod', 'reviews-v1-abc')])[0]!.latest(Date.now(), 60_000), 1);
  assert.equal(store.select('up', [eq('pod', 'ratings-v1-def')])[0]!.latest(Date.now(), 60_000), 0);
  const health = scraper.targets().find((t) => t.url.endsWith('/broken'))!;
  assert.equal(health.up, false);
  assert.match(health.lastError!, /answered HTTP 500/);
  // A target removed from the list is no longer scraped.
  scraper.setTargets([{ url: `${base}/stats/prometheus`, labels: { pod: 'reviews-v1-abc' } }]);
  assert.equal(scraper.targets().length, 1);
  body = 'not a metric line {\n';
  await scraper.scrapeOnce();
  assert.equal(scraper.targets()[0]!.up, false, 'unparseable text marks the target down');
});

test('start() scrapes immediately and then on the interval until stopped', async () => {
  body = 'x_total 1\n';
  const store = new TimeSeriesStore({ resolutionMs: 20 });
  const scraper = new Scraper({ store, intervalMs: 20 });
  scraper.setTargets([{ url: `${base}/m`, labels: {} }]);
  scraper.start();
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if ((store.select('up')[0]?.length ?? 0) >= 3) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
  scraper.stop();
  assert.ok(store.select('x_total')[0]!.length >= 3);
});
