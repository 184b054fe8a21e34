// Weighted cluster choice: proportions over seeded picks and the walk through the weights.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../upstream/lb/conformance.js';
import type { RouteActionConfig } from '../model.js';
import { oneHostRoutes, routeTableFromJson } from '../testing/resources.js';
import { pickWeightedCluster } from './weighted.js';

function action(clusters: { name: string; weight: number }[]): RouteActionConfig {
  const table = routeTableFromJson(
    oneHostRoutes([{ match: { prefix: '/' }, route: { weightedClusters: { clusters } } }]),
  );
  const a = table.virtualHosts[0]!.routes[0]!.action;
  assert.equal(a.kind, 'route');
  return a as RouteActionConfig;
}

test('weights split traffic in proportion (80/20 over 20,000 seeded picks, within 1.5 points)', () => {
  const a = action([
    { name: 'v1', weight: 80 },
    { name: 'v2', weight: 20 },
  ]);
  const random = seededRandom(42);
  const counts = new Map<string, number>();
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    const c = pickWeightedCluster(a, random)!.name;
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assert.ok(Math.abs(counts.get('v1')! / n - 0.8) < 0.015, `v1 got ${counts.get('v1')}`);
  assert.ok(Math.abs(counts.get('v2')! / n - 0.2) < 0.015, `v2 got ${counts.get('v2')}`);
});

test('the random value walks the weights in order; a zero weight is never chosen', () => {
  const a = action([
    { name: 'a', weight: 1 },
    { name: 'off', weight: 0 },
    { name: 'b', weight: 3 },
  ]);
  assert.equal(a.totalWeight, 4);
  assert.equal(pickWeightedCluster(a, () => 0)!.name, 'a');
  assert.equal(pickWeightedCluster(a, () => 0.2499)!.name, 'a');
  assert.equal(pickWeightedCluster(a, () => 0.25)!.name, 'b');
  assert.equal(pickWeightedCluster(a, () => 0.9999)!.name, 'b');
});
