import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GraphEdgeView } from '../../controlplane/api/types.js';
import { edgeLabel, edgeWidth, nodeLabel } from './graph-elements.js';

const edge = (o: Partial<GraphEdgeView>): GraphEdgeView => ({
  id: 'a->b',
  source: 'a',
  target: 'b',
  protocol: 'http',
  requestRate: 4,
  rate4xx: 0,
  rate5xx: 0.4,
  errorRate: 0.1,
  p99: 475,
  mtls: true,
  reporter: 'destination',
  health: 'degraded',
  ...o,
});

test('edge labels carry rate, error rate and p99; TCP edges carry bytes; idle edges nothing', () => {
  assert.equal(edgeLabel(edge({})), '4.00/s · 10.0% err · p99 475ms');
  assert.equal(edgeLabel(edge({ errorRate: 0, rate5xx: 0 })), '4.00/s · p99 475ms');
  assert.equal(edgeLabel(edge({ protocol: 'tcp', tcpBytesPerSecond: 2048 })), '2.0 KiB/s');
  assert.equal(edgeLabel(edge({ requestRate: 0 })), '');
  assert.ok(edgeWidth(100) > edgeWidth(1) && edgeWidth(1e9) === 6);
});

test('workload nodes read app and version; services their name', () => {
  const base = { requestRate: 0, errorRate: 0, health: 'idle' as const, namespace: 'default' };
  assert.equal(
    nodeLabel({ ...base, id: 'w', kind: 'workload', name: 'reviews-v2', app: 'reviews', version: 'v2' }),
    'reviews\nv2',
  );
  assert.equal(nodeLabel({ ...base, id: 's', kind: 'service', name: 'reviews' }), 'reviews');
});
