// Process supervision: restarts with backoff, completion, group stop.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../shared/clock.js';
import { RotatingLog } from './log-file.js';
import { isProcessAlive } from './state-dir.js';
import { type ExitInfo, type RestartPolicy, SupervisedProcess } from './supervised-process.js';

const dir = mkdtempSync(join(tmpdir(), 'supervised-'));

function proc(
  script: string,
  policy: RestartPolicy,
  clock = new ManualClock(),
): { p: SupervisedProcess; clock: ManualClock; log: string } {
  const log = join(dir, `${Math.random().toString(36).slice(2)}.log`);
  const p = new SupervisedProcess({
    name: 'app',
    argv: ['sh', '-c', script],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: dir,
    log: new RotatingLog({ path: log }),
    restartPolicy: policy,
    backoff: { baseMs: 100, maxMs: 300, resetAfterMs: 60_000 },
    clock,
  });
  return { p, clock, log };
}

function nextExit(p: SupervisedProcess): Promise<ExitInfo> {
  return new Promise((r) => p.once('exit', r));
}

test('a crashing process restarts after doubling delays up to the maximum (Kubernetes CrashLoopBackOff)', async () => {
  const { p, clock, log } = proc('echo run; exit 3', 'Always');
  const delays: number[] = [];
  p.start();
  for (let i = 0; i < 4; i++) {
    const exit = await nextExit(p);
    assert.equal(exit.code, 3);
    assert.equal(p.state, 'backoff');
    delays.push(exit.restartInMs!);
    clock.advance(exit.restartInMs!);
  }
  assert.deepEqual(delays, [100, 200, 300, 300]);
  assert.equal(p.restarts, 4);
  await nextExit(p);
  await p.stop(1000);
  assert.equal(p.state, 'stopped');
  const text = readFileSync(log, 'utf8');
  assert.equal(text.match(/^run$/gm)?.length, 5);
  assert.match(text, /\[trellis\] app exited with code 3\n\[trellis\] restarting app in 100 ms/);
});

test('OnFailure and Never: exit 0 completes; Never keeps a failure down', async () => {
  const ok = proc('exit 0', 'OnFailure');
  ok.p.start();
  const e = await nextExit(ok.p);
  assert.equal(e.restartInMs, undefined);
  assert.equal(ok.p.state, 'completed');
  const failed = proc('exit 2', 'Never');
  failed.p.start();
  await nextExit(failed.p);
  assert.equal(failed.p.state, 'failed');
  assert.equal(failed.p.lastExit?.code, 2);
});

test('a program that cannot start counts as a crash and says why in the log', async () => {
  const log = join(dir, 'missing.log');
  const p = new SupervisedProcess({
    name: 'ghost',
    argv: ['/nonexistent/program'],
    env: {},
    cwd: dir,
    log: new RotatingLog({ path: log }),
    restartPolicy: 'Never',
  });
  p.start();
  await nextExit(p);
  assert.equal(p.state, 'failed');
  assert.match(
    readFileSync(log, 'utf8'),
    /ghost exited with code 127: cannot start: spawn \/nonexistent\/program ENOENT/,
  );
});

test('stop sends SIGTERM to the whole process group and SIGKILLs what ignores it after the grace period', async () => {
  const { p } = proc("trap '' TERM; sleep 30 & echo $! > child.pid; wait", 'Always');
  const started = new Promise<number>((r) => p.once('start', r));
  p.start();
  const pid = await started;
  while (!(await import('node:fs')).existsSync(join(dir, 'child.pid')))
    await new Promise((r) => setTimeout(r, 10));
  const child = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
  const t0 = Date.now();
  await p.stop(200);
  assert.ok(Date.now() - t0 >= 150, 'waited for the grace period');
  assert.equal(isProcessAlive(pid), false);
  for (let i = 0; i < 50 && isProcessAlive(child); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(isProcessAlive(child), false, 'the grandchild went with its group');
  assert.equal(p.state, 'stopped');
});
