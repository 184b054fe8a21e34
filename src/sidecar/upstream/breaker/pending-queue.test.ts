import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterCircuitBreakers } from './circuit-breakers.js';
import { PendingQueue } from './pending-queue.js';
import { ISTIO_DEFAULT_THRESHOLDS } from './thresholds.js';

function setup(maxPendingRequests: number) {
  const cb = new ClusterCircuitBreakers({
    cluster: 'c',
    thresholds: { DEFAULT: { ...ISTIO_DEFAULT_THRESHOLDS, maxPendingRequests } },
  });
  const queue = new PendingQueue<string>({
    limit: cb.resources().pendingRequests,
    counters: cb.counters,
    cluster: 'c',
  });
  return { cb, queue };
}

test('a full queue answers at once, without waiting', () => {
  const { cb, queue } = setup(1);
  const first = queue.wait();
  assert.ok(first instanceof Promise);
  assert.equal(queue.wait(), undefined);
  assert.equal(cb.counters.upstream_rq_pending_overflow, 1);
  assert.equal(cb.counters.upstream_rq_pending_total, 1);
  queue.offer('slot');
});

test('freed slots go to waiters in arrival order, and free queue room', async () => {
  const { cb, queue } = setup(2);
  const a = queue.wait()!;
  const b = queue.wait()!;
  assert.equal(cb.gauges()['circuit_breakers.default.rq_pending_open'], 1);
  assert.equal(queue.offer('conn-1'), true);
  assert.equal(await a, 'conn-1');
  assert.ok(queue.wait(), 'handing a slot over frees room for one more waiter');
  assert.equal(queue.offer('conn-2'), true);
  assert.equal(await b, 'conn-2');
  queue.offer('conn-3');
  assert.equal(queue.offer('spare'), false, 'nobody waits: the pool keeps the slot');
});

test('a waiter that gives up leaves the queue and frees its place', async () => {
  const { cb, queue } = setup(1);
  const ac = new AbortController();
  const waiting = queue.wait(ac.signal)!;
  ac.abort(new Error('client went away'));
  await assert.rejects(waiting, /gave up waiting for a connection to cluster "c"/);
  assert.equal(cb.resources().pendingRequests.count, 0);
  assert.equal(queue.offer('slot'), false);
});

test('draining the pool fails every waiter', async () => {
  const { cb, queue } = setup(5);
  const waits = [queue.wait()!, queue.wait()!];
  queue.rejectAll(new Error('host removed'));
  for (const w of waits) await assert.rejects(w, /host removed/);
  assert.equal(cb.resources().pendingRequests.count, 0);
});
