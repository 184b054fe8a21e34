// The fortio-like `load` tool: fortio's code histogram, one keep-alive connection per worker, headers, pacing, JSON.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { runLoadCommand } from '../../examples/tools/load-command.js';
import { DIST, type SpawnedApp, spawnApp } from './helpers/spawn-app.js';

let server: http.Server;
let base: string;
let mixedCount = 0;
const byConnection = new Map<number, number>();
const headersSeen: http.IncomingHttpHeaders[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    const port = req.socket.remotePort!;
    byConnection.set(port, (byConnection.get(port) ?? 0) + 1);
    headersSeen.push(req.headers);
    if (req.url === '/mixed') {
      // Every other request is refused, like a circuit breaker that lets half through.
      res.writeHead(mixedCount++ % 2 === 0 ? 200 : 503).end('mixed');
    } else if (req.url === '/close') {
      res.writeHead(200, { connection: 'close' }).end('bye');
    } else res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function load(args: string[]) {
  let out = '';
  let err = '';
  const code = await runLoadCommand(args, {
    stdout: (d) => {
      out += typeof d === 'string' ? d : Buffer.from(d).toString('utf8');
    },
    stderr: (t) => {
      err += t;
    },
    env: {},
  });
  return { code, out, err };
}

test('-c 3 -qps 0 -n 30 prints fortio’s code histogram and uses one connection per worker', async () => {
  mixedCount = 0;
  byConnection.clear();
  const { code, out } = await load(['load', '-c', '3', '-qps', '0', '-n', '30', `${base}/mixed`]);
  assert.equal(code, 0);
  assert.match(out, /^Code 200 : 15 \(50\.0 %\)$/m);
  assert.match(out, /^Code 503 : 15 \(50\.0 %\)$/m);
  assert.match(out, /^All done 30 calls \(plus 0 warmup\) [\d.]+ ms avg, [\d.]+ qps$/m);
  assert.match(out, /^Sockets used: 3 \(for perfect keepalive, would be 3\)$/m);
  assert.match(out, /^# target 50% [\d.e-]+$/m);
  assert.match(out, /^# target 99\.9% [\d.e-]+$/m);
  assert.deepEqual([...byConnection.values()], [10, 10, 10], 'each worker keeps its own connection');
});

test('-H headers go on every request (the first word "load" is optional)', async () => {
  headersSeen.length = 0;
  await load([
    '-c',
    '2',
    '-qps',
    '0',
    '-n',
    '4',
    '-H',
    'end-user: jason',
    '-H',
    'x-request-id: r1',
    `${base}/`,
  ]);
  assert.equal(headersSeen.length, 4);
  assert.ok(headersSeen.every((h) => h['end-user'] === 'jason' && h['x-request-id'] === 'r1'));
});

test('-json - writes fortio-style JSON on stdout and the summary on stderr', async () => {
  mixedCount = 0;
  const { out, err } = await load(['-c', '2', '-qps', '0', '-n', '10', '-json', '-', `${base}/mixed`]);
  const report = JSON.parse(out) as {
    RetCodes: Record<string, number>;
    DurationHistogram: { Count: number };
    NumThreads: number;
  };
  assert.deepEqual(report.RetCodes, { '200': 5, '503': 5 });
  assert.equal(report.DurationHistogram.Count, 10);
  assert.equal(report.NumThreads, 2);
  assert.match(err, /^Code 200 : 5 \(50\.0 %\)$/m);
});

test('requests that get no response count as code -1', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const { out } = await load(['-c', '2', '-qps', '0', '-n', '4', `http://127.0.0.1:${port}/`]);
  assert.match(out, /^Code {2}-1 : 4 \(100\.0 %\)$/m);
});

test('a server that closes every connection costs one socket per call and no errors', async () => {
  const { out } = await load(['-c', '2', '-qps', '0', '-n', '6', `${base}/close`]);
  assert.match(out, /^Code 200 : 6 \(100\.0 %\)$/m);
  assert.match(out, /^Sockets used: 6 /m);
});

test('-qps paces the calls over all connections', async () => {
  const t0 = performance.now();
  const { out } = await load(['-c', '2', '-qps', '20', '-n', '6', `${base}/`]);
  const ms = performance.now() - t0;
  // Each connection sends at 10/s: its third call is due 200 ms after the start.
  assert.ok(ms >= 190, `6 calls at 20 qps took ${Math.round(ms)} ms`);
  assert.match(out, /^Code 200 : 6 \(100\.0 %\)$/m);
});

test('`load curl` prints the status line, headers and body, as `fortio curl` does', async () => {
  const { code, out } = await load(['curl', '-quiet', `${base}/`]);
  assert.equal(code, 0);
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(out.endsWith('\r\n\r\nok'));
});

test('bad flags exit 1 with the usage', async () => {
  const { code, err } = await load(['-c', 'many', `${base}/`]);
  assert.equal(code, 1);
  assert.match(err, /invalid value "many" for flag -c/);
});

test('`fortio load …` through examples/tools/bin/fortio, and `load server` echoing with ?status=', async () => {
  const echo: SpawnedApp = await spawnApp({ script: 'tools/load.js', args: ['server', '-http-port', '0'] });
  try {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        `${DIST}../examples/tools/bin/fortio`,
        ['load', '-c', '1', '-qps', '0', '-n', '3', `http://127.0.0.1:${echo.port}/?status=418`],
        { env: { PATH: process.env.PATH ?? '' } },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      );
    });
    assert.match(out, /^Code 418 : 3 \(100\.0 %\)$/m);
    const posted = await fetch(`http://127.0.0.1:${echo.port}/`, { method: 'POST', body: 'echo me' });
    assert.equal(await posted.text(), 'echo me');
  } finally {
    await echo.stop();
  }
});
