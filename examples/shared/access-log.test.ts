// Tests of the combined-format access log.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { formatAccessLine, withAccessLog } from './access-log.js';

test('the line is in the combined log format, quotes escaped', () => {
  assert.equal(
    formatAccessLine({
      remoteAddress: '127.0.0.6',
      time: new Date(Date.UTC(2018, 2, 7, 19, 2, 43)),
      method: 'GET',
      url: '/headers',
      httpVersion: '1.1',
      status: 200,
      bytes: 321,
      referer: undefined,
      userAgent: 'curl/7.35.0 "x"',
    }),
    '127.0.0.6 - - [07/Mar/2018:19:02:43 +0000] "GET /headers HTTP/1.1" 200 321 "-" "curl/7.35.0 \\"x\\""',
  );
});

test('one line per request with the bytes actually sent, including streamed and abandoned replies', async () => {
  const lines: string[] = [];
  const server = http.createServer(
    withAccessLog(
      (req, res) => {
        if (req.url === '/never') return;
        res.write('ab');
        res.end(Buffer.from('cde'));
      },
      { write: (l) => lines.push(l), now: () => new Date(0) },
    ),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  assert.equal(await (await fetch(`${base}/stream`)).text(), 'abcde');
  await fetch(`${base}/never`, { signal: AbortSignal.timeout(100) }).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 50));
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /"GET \/stream HTTP\/1\.1" 200 5 "-" "node"$/);
  assert.match(lines[1]!, /"GET \/never HTTP\/1\.1" 0 0 /, 'no reply written: status 0');
});
