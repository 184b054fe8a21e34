// Cancellation: AbortSignal semantics at no per-request cost, and interop with real AbortSignals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cancellation, type CancelSignal } from './cancel.js';

test('listeners run once, in order, with the reason; late listeners and removed ones do not run', () => {
  const c = new Cancellation();
  const calls: string[] = [];
  const removed = () => calls.push('removed');
  c.addEventListener('abort', () => calls.push(`a:${String(c.reason)}`));
  c.addEventListener('abort', removed);
  c.addEventListener('abort', () => calls.push('b'));
  c.removeEventListener('abort', removed);
  c.abort('why');
  c.abort('again');
  c.addEventListener('abort', () => calls.push('late'));
  assert.deepEqual(calls, ['a:why', 'b']);
  assert.equal(c.aborted, true);
  assert.throws(
    () => c.throwIfAborted(),
    (e) => e === 'why',
  );
});

test('a per-try cancellation follows the exchange; a real AbortSignal mirrors it on demand', () => {
  const exchange = new Cancellation();
  const attempt = new Cancellation().follow(exchange);
  const real = attempt.toAbortSignal();
  assert.equal(real.aborted, false);
  const reason = new Error('client left');
  exchange.abort(reason);
  assert.equal(attempt.reason, reason);
  assert.equal(real.aborted, true);
  assert.equal(real.reason, reason);
});

test('an AbortSignal is accepted wherever a CancelSignal is', () => {
  const controller = new AbortController();
  const signal: CancelSignal = controller.signal;
  let seen: unknown;
  signal.addEventListener('abort', () => (seen = signal.reason), { once: true });
  controller.abort('stop');
  assert.equal(seen, 'stop');
});
