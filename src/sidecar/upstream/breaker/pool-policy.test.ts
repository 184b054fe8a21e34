import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterCircuitBreakers } from './circuit-breakers.js';
import { breakerConnectionPolicy } from './pool-policy.js';
import { ISTIO_DEFAULT_THRESHOLDS } from './thresholds.js';

test('over max_connections a pool may not connect, except its very first connection', () => {
  const cb = new ClusterCircuitBreakers({
    cluster: 'c',
    thresholds: { DEFAULT: { ...ISTIO_DEFAULT_THRESHOLDS, maxConnections: 1 } },
  });
  const policy = breakerConnectionPolicy(cb.resources(), cb.counters);
  const empty = { active: 0, idle: 0, connecting: 0, pending: 1 };
  assert.equal(policy.mayOpenConnection(empty), true);
  policy.connectionOpened();
  // Another pool (another host of the cluster) with no connection still gets one.
  assert.equal(policy.mayOpenConnection(empty), true);
  assert.equal(cb.counters.upstream_cx_overflow, 1);
  // A pool that already has a connection must queue instead.
  assert.equal(policy.mayOpenConnection({ active: 1, idle: 0, connecting: 0, pending: 1 }), false);
  assert.equal(cb.counters.upstream_cx_overflow, 2);
  assert.equal(cb.gauges()['circuit_breakers.default.cx_open'], 1);
  policy.connectionClosed();
  assert.equal(policy.mayOpenConnection({ active: 1, idle: 0, connecting: 0, pending: 1 }), true);
});
