// The demo's traffic generator against a local stand-in of productpage.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { DemoTraffic } from './demo-traffic.js';

test('demo traffic visits /productpage steadily and every fourth visit is signed in as jason', async () => {
  const seen: { path: string; cookie: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/login') {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        assert.match(body, /username=jason/);
        res.writeHead(302, { location: '/productpage', 'set-cookie': 'session=jason-token; Path=/' }).end();
      });
      return;
    }
    seen.push({ path: req.url ?? '', cookie: req.headers.cookie });
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const lines: string[] = [];
  const traffic = new DemoTraffic({
    ingressUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    rate: 200,
    summaryEveryMs: 30,
    onSummary: (l) => lines.push(l),
  });
  traffic.start();
  while (seen.length < 8 || !lines.some((l) => l.includes('× 200')))
    await new Promise((r) => setTimeout(r, 10));
  traffic.stop();
  server.close();
  assert.ok(seen.every((s) => s.path === '/productpage'));
  const signedIn = seen.filter((s) => s.cookie === 'session=jason-token').length;
  assert.ok(signedIn >= 1 && signedIn <= Math.ceil(seen.length / 4) + 1, `${signedIn} of ${seen.length}`);
  assert.match(lines.at(-1)!, /^traffic: \d+ requests to \/productpage \(\d+ × 200/);
});
