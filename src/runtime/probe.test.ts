// Readiness probes and the readiness loop's thresholds.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ManualClock } from '../shared/clock.js';
import { defaultProbe, type ProbeTarget, ReadinessLoop, runProbe } from './probe.js';

let server: http.Server;
let port = 0;
const healthy = true;

before(async () => {
  server = http.createServer((req, res) =>
    res.writeHead(req.url === '/healthz' && healthy ? 204 : 500).end(),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(() => server.close());

function target(): ProbeTarget {
  return {
    host: '127.0.0.1',
    namedPorts: new Map([['http', port]]),
    execPrefix: [],
    env: { PATH: process.env.PATH ?? '/usr/bin' },
    cwd: '/',
  };
}

test('httpGet counts 2xx/3xx as ready and resolves named ports; tcpSocket needs a listener; exec needs exit 0', async () => {
  assert.equal(await runProbe({ httpGet: { path: '/healthz', port: 'http' } }, target()), true);
  assert.equal(await runProbe({ httpGet: { path: '/other', port } }, target()), false);
  assert.equal(await runProbe({ httpGet: { path: '/healthz', port: 'nope' } }, target()), false);
  assert.equal(await runProbe({ tcpSocket: { port } }, target()), true);
  assert.equal(await runProbe({ tcpSocket: { port: 1 } }, target()), false);
  assert.equal(await runProbe({ exec: { command: ['sh', '-c', 'exit 0'] } }, target()), true);
  assert.equal(await runProbe({ exec: { command: ['sh', '-c', 'exit 1'] } }, target()), false);
  assert.equal(await defaultProbe([port])(target()), true);
  assert.equal(await defaultProbe([port, 1])(target()), false);
  assert.equal(await defaultProbe([])(target()), true, 'no declared ports: ready once running');
});

test('readiness turns on after successThreshold and off after failureThreshold consecutive results', async () => {
  const clock = new ManualClock();
  const results = [false, true, true, false, false, true, false, false, false];
  const changes: boolean[] = [];
  let calls = 0;
  const loop = new ReadinessLoop({
    check: async () => results[calls++] ?? true,
    probe: { periodSeconds: 1, successThreshold: 2, failureThreshold: 3 },
    clock,
    onChange: (r) => changes.push(r),
  });
  loop.start();
  for (let i = 0; i < results.length; i++) {
    clock.advance(1000);
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(calls, results.length);
  assert.deepEqual(changes, [true, false]);
  loop.stop();
});
