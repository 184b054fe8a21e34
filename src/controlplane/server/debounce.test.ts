// Unit tests: the push debouncer's quiet period, max delay and one-batch-at-a-time rule.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { type DebounceBatch, Debouncer } from './debounce.js';

function setup(delayMs: number, maxDelayMs: number) {
  const clock = new ManualClock(0);
  const batches: DebounceBatch<string>[] = [];
  const d = new Debouncer<string>({ delayMs, maxDelayMs, clock, flush: (b) => void batches.push(b) });
  return { clock, batches, d };
}

test('events close together are pushed once, after the quiet period', () => {
  const { clock, batches, d } = setup(100, 10_000);
  d.push('a');
  clock.advance(60);
  d.push('b');
  clock.advance(60);
  assert.equal(batches.length, 0, 'the quiet period restarts with each event');
  clock.advance(40);
  assert.equal(batches.length, 1);
  assert.deepEqual(batches[0]!.events, ['a', 'b']);
  assert.equal(batches[0]!.firstAt, 0, 'the batch remembers when its first change was queued');
  assert.equal(batches[0]!.lastAt, 60);
});

test('a steady stream of events is still pushed by the max delay', () => {
  const { clock, batches, d } = setup(100, 500);
  for (let t = 0; t < 1000; t += 50) {
    d.push(`e${t}`);
    clock.advance(50);
  }
  assert.ok(batches.length >= 1, 'pushed despite never being quiet');
  assert.equal(batches[0]!.firstAt, 0);
  assert.ok(batches[0]!.lastAt <= 500, `first batch ended by the max delay (lastAt ${batches[0]!.lastAt})`);
});

test('a batch never starts while the previous push is still running', async () => {
  const clock = new ManualClock(0);
  let release: () => void = () => {};
  const started: string[][] = [];
  const d = new Debouncer<string>({
    delayMs: 10,
    maxDelayMs: 100,
    clock,
    flush: (b) => {
      started.push([...b.events]);
      return new Promise<void>((r) => {
        release = r;
      });
    },
  });
  d.push('a');
  clock.advance(10);
  assert.deepEqual(started, [['a']]);
  d.push('b');
  clock.advance(50);
  assert.equal(started.length, 1, 'waits for the running push');
  release();
  await new Promise((r) => setImmediate(r));
  clock.advance(10);
  assert.deepEqual(started, [['a'], ['b']]);
});

test('flushNow pushes pending events at once; close drops them', async () => {
  const { batches, d } = setup(100, 1000);
  d.push('x');
  await d.flushNow();
  assert.deepEqual(batches[0]!.events, ['x']);
  d.push('y');
  d.close();
  assert.equal(d.pending, 0);
});
