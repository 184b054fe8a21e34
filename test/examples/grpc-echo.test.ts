// The gRPC echo service over a real HTTP/2 connection: unary, server streaming, metadata, failures, deadlines, CLI.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { EchoClient } from '../../examples/grpc-echo/src/echo-client.js';
import { DIST, type SpawnedApp, spawnApp } from './helpers/spawn-app.js';

let app: SpawnedApp;
let client: EchoClient;
let target: string;

before(async () => {
  app = await spawnApp({
    script: 'grpc-echo/src/main.js',
    args: ['0'],
    env: { HOSTNAME: 'grpc-echo-v2-abc', SERVICE_VERSION: 'v2' },
  });
  target = `127.0.0.1:${app.port}`;
  client = new EchoClient(target);
});
after(async () => {
  client.close();
  await app.stop();
});

test('Echo answers with the message, the pod and its version', async () => {
  assert.deepEqual(
    await client.echo({ message: 'hi' }, { timeoutMs: 5000, metadata: { 'end-user': 'jason' } }),
    {
      message: 'hi',
      hostname: 'grpc-echo-v2-abc',
      version: 'v2',
      index: 0,
    },
  );
});

test('StreamEcho sends the requested number of messages in order', async () => {
  const replies = await client.streamEcho({ message: 's', count: 4 }, { timeoutMs: 5000 });
  assert.deepEqual(
    replies.map((r) => [r.index, r.message, r.version]),
    [
      [0, 's', 'v2'],
      [1, 's', 'v2'],
      [2, 's', 'v2'],
      [3, 's', 'v2'],
    ],
  );
});

test('fail_code makes either method fail with that status', async () => {
  await assert.rejects(
    client.echo({ failCode: status.UNAVAILABLE }),
    (e: { code: number }) => e.code === status.UNAVAILABLE,
  );
  await assert.rejects(
    client.streamEcho({ count: 3, failCode: status.PERMISSION_DENIED }),
    (e: { code: number }) => e.code === status.PERMISSION_DENIED,
  );
});

test('a stream slower than the deadline ends with DEADLINE_EXCEEDED', async () => {
  await assert.rejects(
    client.streamEcho({ count: 5, intervalMs: 400 }, { timeoutMs: 200 }),
    (e: { code: number }) => e.code === status.DEADLINE_EXCEEDED,
  );
});

test('the client command prints one JSON line per response and exits 1 with the status on failure', async () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, [`${DIST}examples/grpc-echo/src/client.js`, target, ...args], {
        env: { PATH: process.env.PATH ?? '' },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        err += d;
      });
      child.on('close', (code) => resolve({ code, out, err }));
    });
  const ok = await run(['--stream', '2', '--message', 'cli']);
  assert.equal(ok.code, 0);
  assert.deepEqual(
    ok.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
    [
      { message: 'cli', hostname: 'grpc-echo-v2-abc', version: 'v2', index: 0 },
      { message: 'cli', hostname: 'grpc-echo-v2-abc', version: 'v2', index: 1 },
    ],
  );
  const failed = await run(['--fail-code', '14']);
  assert.equal(failed.code, 1);
  assert.match(failed.err, /code=14 \(UNAVAILABLE\)/);
});
