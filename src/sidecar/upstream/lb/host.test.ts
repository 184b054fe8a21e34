import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Host, parseLocality, reconcileHosts } from './host.js';

test('an EDS update keeps in-flight counts and ejections of hosts that stay', () => {
  const v1 = reconcileHosts(
    [],
    [
      { address: '10.0.0.1', port: 80 },
      { address: '10.0.0.2', port: 80 },
    ],
  );
  v1[0]!.live.requestStarted();
  v1[1]!.live.outlierEjected = true;
  const v2 = reconcileHosts(v1, [
    { address: '10.0.0.1', port: 80, weight: 5 },
    { address: '10.0.0.3', port: 80 },
  ]);
  assert.equal(v2[0]!.weight, 5);
  assert.equal(v2[0]!.activeRequests, 1);
  // The request that started on the old object finishes on the shared state.
  v1[0]!.live.requestFinished();
  assert.equal(v2[0]!.activeRequests, 0);
  assert.equal(v2[1]!.live.outlierEjected, false);
});

test('EDS health maps to coarse health as in Envoy', () => {
  const health = (h: 'HEALTHY' | 'UNKNOWN' | 'DRAINING' | 'DEGRADED' | 'UNHEALTHY' | 'TIMEOUT') =>
    new Host({ address: '1.1.1.1', port: 1, health: h }).coarseHealth;
  assert.equal(health('UNKNOWN'), 'healthy');
  assert.equal(health('HEALTHY'), 'healthy');
  assert.equal(health('DEGRADED'), 'degraded');
  assert.equal(health('DRAINING'), 'unhealthy');
  assert.equal(health('UNHEALTHY'), 'unhealthy');
  assert.equal(health('TIMEOUT'), 'unhealthy');
});

test('localities parse from Istio label form', () => {
  assert.deepEqual(parseLocality('us-east1/us-east1-b/rack4'), {
    region: 'us-east1',
    zone: 'us-east1-b',
    subZone: 'rack4',
  });
  assert.deepEqual(parseLocality('eu'), { region: 'eu', zone: '', subZone: '' });
});
