import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GrpcRateLimitClient } from '../../src/sidecar/ratelimit/global-client.js';
import { redisSkipReason, startRedis, type TestRedis } from './redis-server.js';

const BIN = fileURLToPath(new URL('../../../bin/trellis.js', import.meta.url));
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-rl-'));
  // Day windows: a window boundary between two calls of one test is practically impossible.
  writeFileSync(
    join(dir, 'config.yaml'),
    'domain: ratelimit\ndescriptors:\n  - key: PATH\n    value: api\n    rate_limit: {unit: day, requests_per_unit: 2}\n' +
      '  - key: PATH\n    value: /productpage\n    rate_limit: {unit: day, requests_per_unit: 1}\n',
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `trellis ratelimit` on a free port and resolves with the port it logged. */
async function startCli(args: string[]): Promise<{ child: ChildProcess; port: number; log: () => string }> {
  const child = spawn(process.execPath, [BIN, 'ratelimit', '--host', '127.0.0.1', '--port', '0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const m = /rate limit service listening address="127\.0\.0\.1:(\d+)"/.exec(log);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`trellis ratelimit exited with ${code}: ${log}`)));
  });
  return { child, port, log: () => log };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = await exited;
  return code as number | null;
}

test('trellis ratelimit serves the RLS API from a config directory and stops cleanly on SIGTERM', async () => {
  const { child, port, log } = await startCli(['--config', dir]);
  const client = new GrpcRateLimitClient({ target: `127.0.0.1:${port}` });
  try {
    const ask = () =>
      client.shouldRateLimit(
        { domain: 'ratelimit', descriptors: [{ entries: [{ key: 'PATH', value: 'api' }] }] },
        2000,
      );
    const codes = [(await ask()).overallCode, (await ask()).overallCode, (await ask()).overallCode];
    // OK = 1, OVER_LIMIT = 2.
    assert.deepEqual(codes, [1, 1, 2]);
    assert.match(log(), /counters are kept in memory/);
  } finally {
    client.close();
    assert.equal(await stop(child), 0);
  }
});

let redis: TestRedis | undefined;
after(async () => {
  await redis?.stop();
});

test('trellis ratelimit --redis keeps counters in Redis', { skip: redisSkipReason() }, async () => {
  redis = await startRedis();
  const first = await startCli(['--config', join(dir, 'config.yaml'), '--redis', redis.url]);
  const second = await startCli(['--config', join(dir, 'config.yaml'), '--redis', redis.url]);
  const clients = [first, second].map((c) => new GrpcRateLimitClient({ target: `127.0.0.1:${c.port}` }));
  try {
    const ask = (i: number) =>
      clients[i]!.shouldRateLimit(
        { domain: 'ratelimit', descriptors: [{ entries: [{ key: 'PATH', value: '/productpage' }] }] },
        2000,
      );
    // 1 per day across both processes.
    assert.equal((await ask(0)).overallCode, 1);
    assert.equal((await ask(1)).overallCode, 2);
    assert.equal((await ask(0)).overallCode, 2);
  } finally {
    for (const c of clients) c.close();
    assert.equal(await stop(first.child), 0);
    assert.equal(await stop(second.child), 0);
  }
});

test('trellis ratelimit refuses a bad config with the file and field', async () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    'domain: d\ndescriptors:\n  - key: a\n    rate_limit: {unit: weekly, requests_per_unit: 1}\n',
  );
  const child = spawn(process.execPath, [BIN, 'ratelimit', '--config', bad, '--port', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const [code] = await once(child, 'exit');
  assert.equal(code, 1);
  assert.match(err, /bad.yaml: descriptors\[0\].rate_limit.unit: "weekly" is not one of/);
});
