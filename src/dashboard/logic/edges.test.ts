import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EdgeSignals } from '../../controlplane/api/types.js';
import { groupByPeer } from './edges.js';

const edge = (src: string, svc: string, dst: string, rate: number, r5 = 0, p99?: number): EdgeSignals => ({
  source: { workload: src, namespace: 'default', app: src, version: 'v1' },
  destination: {
    service: `${svc}.default.svc.cluster.local`,
    workload: dst,
    namespace: 'default',
    app: svc,
    version: 'v1',
  },
  requestRate: rate,
  rate4xx: 0,
  rate5xx: r5,
  errorRate: rate ? r5 / rate : 0,
  reporter: 'destination',
  ...(p99 === undefined ? {} : { p99 }),
});

test('edges group by the peer: sums, error ratio of the sum, and the largest p99; busiest first', () => {
  const edges = [
    edge('reviews-v2', 'ratings', 'ratings-v1', 4, 0, 400),
    edge('reviews-v3', 'ratings', 'ratings-v1', 4, 0.4, 475),
    edge('productpage-v1', 'reviews', 'reviews-v1', 2),
  ];
  const byService = groupByPeer(edges, 'destination-service');
  assert.deepEqual(
    byService.map((r) => [r.label, r.requestRate, r.errorRate, r.p99]),
    [
      ['ratings', 8, 0.05, 475],
      ['reviews', 2, 0, undefined],
    ],
  );
  assert.equal(byService[0]!.key, 'service:ratings.default.svc.cluster.local');
  const bySource = groupByPeer(edges, 'source-workload');
  assert.deepEqual(
    bySource.map((r) => r.key),
    ['workload:default/reviews-v2', 'workload:default/reviews-v3', 'workload:default/productpage-v1'],
  );
});
