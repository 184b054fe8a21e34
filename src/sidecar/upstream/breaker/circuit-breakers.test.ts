import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { CircuitBreakersSchema } from '../../../xds/gen/envoy/config/cluster/v3/circuit_breaker_pb.js';
import { RoutingPriority } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import { ClusterCircuitBreakers } from './circuit-breakers.js';
import { ISTIO_DEFAULT_THRESHOLDS, MAX_UINT32, thresholdsFromProto } from './thresholds.js';

const CLUSTER = 'outbound|8000||httpbin.default.svc.cluster.local';

test("unset thresholds take Envoy's defaults; HIGH has its own entry", () => {
  const t = thresholdsFromProto(
    create(CircuitBreakersSchema, {
      thresholds: [
        { maxConnections: 1, maxPendingRequests: 1 },
        { priority: RoutingPriority.HIGH, maxRequests: 7 },
      ],
    }),
  );
  assert.deepEqual(t.DEFAULT, {
    maxConnections: 1,
    maxPendingRequests: 1,
    maxRequests: 1024,
    maxRetries: 3,
    maxConnectionPools: MAX_UINT32,
  });
  assert.equal(t.HIGH.maxRequests, 7);
  assert.equal(t.HIGH.maxConnections, 1024);
  assert.equal(thresholdsFromProto(undefined).DEFAULT.maxRetries, 3);
});

test('requests over max_requests overflow at once and are counted as pending overflow (503 UO)', () => {
  const cb = new ClusterCircuitBreakers({
    cluster: CLUSTER,
    thresholds: { DEFAULT: { ...ISTIO_DEFAULT_THRESHOLDS, maxRequests: 2 } },
  });
  assert.ok(cb.tryStartRequest());
  assert.ok(cb.tryStartRequest());
  assert.equal(cb.tryStartRequest(), false);
  assert.equal(cb.counters.upstream_rq_pending_overflow, 1);
  assert.equal(cb.gauges()['circuit_breakers.default.rq_open'], 1);
  cb.requestFinished();
  assert.ok(cb.tryStartRequest(), 'a finished request frees its slot');
  // HIGH priority has separate counters.
  assert.ok(cb.tryStartRequest('HIGH'));
});

test('retries over max_retries are refused and counted as retry overflow', () => {
  const cb = new ClusterCircuitBreakers({ cluster: CLUSTER });
  for (let i = 0; i < 3; i++) assert.ok(cb.tryStartRetry());
  assert.equal(cb.tryStartRetry(), false);
  assert.equal(cb.counters.upstream_rq_retry_overflow, 1);
  assert.equal(cb.gauges()['circuit_breakers.default.remaining_retries'], 0);
  cb.retryFinished();
  assert.equal(cb.gauges()['circuit_breakers.default.remaining_retries'], 1);
});

test("Istio's defaults (2^32-1) never trip", () => {
  const cb = new ClusterCircuitBreakers({
    cluster: CLUSTER,
    thresholds: { DEFAULT: ISTIO_DEFAULT_THRESHOLDS, HIGH: ISTIO_DEFAULT_THRESHOLDS },
  });
  for (let i = 0; i < 10_000; i++) assert.ok(cb.tryStartRequest() && cb.tryStartRetry());
  assert.equal(cb.counters.upstream_rq_pending_overflow + cb.counters.upstream_rq_retry_overflow, 0);
});

test('a config swap changes limits but keeps what is in flight', () => {
  const cb = new ClusterCircuitBreakers({ cluster: CLUSTER });
  for (let i = 0; i < 5; i++) cb.tryStartRequest();
  cb.updateThresholds({ DEFAULT: { ...ISTIO_DEFAULT_THRESHOLDS, maxRequests: 5 } });
  assert.equal(cb.tryStartRequest(), false, '5 in flight already fill the new limit of 5');
  assert.equal(cb.resources().requests.count, 5);
});

test('max_connection_pools limits pool creation', () => {
  const cb = new ClusterCircuitBreakers({
    cluster: CLUSTER,
    thresholds: { DEFAULT: { ...ISTIO_DEFAULT_THRESHOLDS, maxConnectionPools: 1 } },
  });
  assert.ok(cb.tryCreatePool());
  assert.equal(cb.tryCreatePool(), false);
  assert.equal(cb.counters.upstream_cx_pool_overflow, 1);
  cb.poolDestroyed();
  assert.ok(cb.tryCreatePool());
});
