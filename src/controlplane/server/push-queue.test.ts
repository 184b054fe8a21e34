// Unit tests: the push throttle bounds concurrent flushes and never loses a stream that asks again.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Pushable, PushQueue } from './push-queue.js';

test('no more than `concurrency` streams flush at once, and a stream asking during its flush runs again', async () => {
  const queue = new PushQueue({ concurrency: 2 });
  let active = 0;
  let maxActive = 0;
  const flushes = new Map<Pushable, number>();
  const release: (() => void)[] = [];
  const stream = (): Pushable => {
    const s: Pushable = {
      flush: () => {
        active++;
        maxActive = Math.max(maxActive, active);
        flushes.set(s, (flushes.get(s) ?? 0) + 1);
        return new Promise<void>((r) =>
          release.push(() => {
            active--;
            r();
          }),
        );
      },
    };
    return s;
  };
  const streams = [stream(), stream(), stream(), stream()];
  for (const s of streams) queue.enqueue(s);
  queue.enqueue(streams[0]!); // a duplicate while queued is merged
  await new Promise((r) => setImmediate(r));
  assert.equal(active, 2);
  queue.enqueue(streams[0]!); // asks again while flushing
  const idle = queue.idle();
  while (release.length > 0 || queue.size > 0) {
    release.shift()?.();
    await new Promise((r) => setImmediate(r));
  }
  await idle;
  assert.equal(maxActive, 2);
  assert.deepEqual(
    streams.map((s) => flushes.get(s)),
    [2, 1, 1, 1],
  );
});
