import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waterfallRows } from './waterfall.js';

const span = (
  spanId: string,
  parentSpanId: string | undefined,
  startMs: number,
  durationMs: number,
  error = false,
) => ({
  spanId,
  ...(parentSpanId ? { parentSpanId } : {}),
  startMs,
  durationMs,
  error,
});

test('rows follow the call tree with depth and bar geometry relative to the whole trace', () => {
  const rows = waterfallRows([
    span('c2', 'root', 50, 40),
    span('root', undefined, 0, 100),
    span('c1', 'root', 10, 20),
    span('g1', 'c2', 60, 20),
  ]);
  assert.deepEqual(
    rows.map((r) => [r.span.spanId, r.depth]),
    [
      ['root', 0],
      ['c1', 1],
      ['c2', 1],
      ['g1', 2],
    ],
  );
  assert.deepEqual([rows[2]!.offsetPct, rows[2]!.widthPct], [50, 40]);
});

test('the failing span is the deepest error: errors that merely propagate up are not it', () => {
  const rows = waterfallRows([
    span('root', undefined, 0, 100),
    span('client', 'root', 5, 90, true),
    span('server', 'client', 6, 88, true),
    span('db', 'server', 10, 80, true),
    span('cache', 'server', 5, 1, false),
  ]);
  assert.deepEqual(
    rows.filter((r) => r.failing).map((r) => r.span.spanId),
    ['db'],
  );
  const twoFailures = waterfallRows([span('a', undefined, 0, 10, true), span('b', undefined, 0, 10, true)]);
  assert.equal(twoFailures.filter((r) => r.failing).length, 2);
});

test('orphans, missing roots and parent cycles still produce one row per span', () => {
  const rows = waterfallRows([span('x', 'missing', 0, 5), span('y', 'z', 1, 1), span('z', 'y', 2, 1)]);
  assert.equal(rows.length, 3);
  assert.deepEqual(waterfallRows([]), []);
});
