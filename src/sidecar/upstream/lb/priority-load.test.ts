import assert from 'node:assert/strict';
import { test } from 'node:test';
import { choosePriority, computePriorityLoad } from './priority-load.js';

const opts = { overprovisioningFactor: 140, panicThreshold: 50 };
/** Levels of 100 hosts each with the given healthy percentages. */
const levels = (...healthy: number[]) => healthy.map((h) => ({ total: 100, healthy: h, degraded: 0 }));

test("two priorities follow Envoy's documented table (P=1 fully healthy)", () => {
  const table: [number, number[]][] = [
    [100, [100, 0]],
    [72, [100, 0]],
    [71, [99, 1]],
    [50, [70, 30]],
    [25, [35, 65]],
    [0, [0, 100]],
  ];
  for (const [p0, expected] of table) {
    assert.deepEqual(computePriorityLoad(levels(p0, 100), opts).healthyLoad, expected, `P0 ${p0}% healthy`);
  }
});

// Envoy's tables leave panic out; these rows would otherwise all be in panic at the default 50%.
const noPanic = { ...opts, panicThreshold: 0 };

test('when the priorities together are short of 100%, load is normalized (25%/25% → 50/50)', () => {
  assert.deepEqual(computePriorityLoad(levels(25, 25), noPanic).healthyLoad, [50, 50]);
  assert.deepEqual(computePriorityLoad(levels(50, 50), opts).healthyLoad, [70, 30]);
});

test("three priorities follow Envoy's documented table", () => {
  assert.deepEqual(computePriorityLoad(levels(71, 71, 100), opts).healthyLoad, [99, 1, 0]);
  assert.deepEqual(computePriorityLoad(levels(25, 100, 100), opts).healthyLoad, [35, 65, 0]);
  assert.deepEqual(computePriorityLoad(levels(25, 25, 100), opts).healthyLoad, [35, 35, 30]);
  // The docs print 36/36/28 for this row; Envoy's integer code gives the rounding remainder to P0.
  assert.deepEqual(computePriorityLoad(levels(25, 25, 20), noPanic).healthyLoad, [37, 35, 28]);
  // With the default panic threshold every level is below 50% healthy: load follows host counts.
  assert.deepEqual(computePriorityLoad(levels(25, 25, 20), opts).healthyLoad, [34, 33, 33]);
});

test('a level panics below the threshold only while the priorities cannot carry the load', () => {
  // 40% healthy in P0, but P1 can take the rest: no panic anywhere.
  assert.deepEqual(computePriorityLoad(levels(40, 100), opts).panic, [false, false]);
  // A single priority at 40% healthy (< 50%): panic.
  assert.deepEqual(computePriorityLoad(levels(40), opts).panic, [true]);
  // Panic disabled (Istio's default minHealthPercent 0): never.
  assert.deepEqual(computePriorityLoad(levels(10), { ...opts, panicThreshold: 0 }).panic, [false]);
});

test('in total panic, load follows host counts regardless of health', () => {
  const load = computePriorityLoad(
    [
      { total: 3, healthy: 0, degraded: 0 },
      { total: 1, healthy: 0, degraded: 0 },
    ],
    opts,
  );
  assert.deepEqual(load.panic, [true, true]);
  assert.deepEqual(load.healthyLoad, [75, 25]);
});

test('degraded hosts take load only after healthy ones run out', () => {
  const load = computePriorityLoad([{ total: 10, healthy: 5, degraded: 5 }], opts);
  assert.deepEqual(load.healthyLoad, [70]);
  assert.deepEqual(load.degradedLoad, [30]);
  assert.equal(choosePriority(load, 69), 0, 'hash 69 → healthy P0');
  assert.equal(choosePriority(load, 70), 1, 'hash 70 → degraded P0');
});
