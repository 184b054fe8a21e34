import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assignLocalityPriorities,
  effectiveLocalityLbSetting,
  localityMatches,
} from './locality-priority.js';

describe("Istio's locality failover task (helloworld, client in region1/zone1)", () => {
  const endpoints = [
    { locality: 'region1/zone1' },
    { locality: 'region1/zone2' },
    { locality: 'region2/zone3' },
    { locality: 'region3/zone4' },
  ];
  const client = { locality: 'region1/zone1' };

  test('failover region1 → region2 ranks 0, 2, 3, 4 and numbers priorities without gaps', () => {
    const placements = assignLocalityPriorities({
      client,
      endpoints,
      setting: { enabled: true, failover: [{ from: 'region1', to: 'region2' }] },
      outlierDetection: true,
    });
    assert.deepEqual(
      placements.map((p) => p.rank),
      [0, 2, 3, 4],
    );
    assert.deepEqual(
      placements.map((p) => p.priority),
      [0, 1, 2, 3],
    );
  });

  test('another sub-zone of the same zone ranks 1', () => {
    const [same, otherSubZone] = assignLocalityPriorities({
      client: { locality: 'region1/zone1/a' },
      endpoints: [{ locality: 'region1/zone1/a' }, { locality: 'region1/zone1/b' }],
      setting: { enabled: true },
      outlierDetection: true,
    });
    assert.equal(same!.rank, 0);
    assert.equal(otherSubZone!.rank, 1);
  });

  test('without a failover rule every other region ranks 3', () => {
    const placements = assignLocalityPriorities({ client, endpoints, setting: {}, outlierDetection: true });
    assert.deepEqual(
      placements.map((p) => p.rank),
      [0, 2, 3, 3],
    );
    assert.deepEqual(
      placements.map((p) => p.priority),
      [0, 1, 2, 2],
    );
  });

  test('without outlier detection nothing fails over: every endpoint stays at priority 0', () => {
    const placements = assignLocalityPriorities({
      client,
      endpoints,
      setting: { failover: [{ from: 'region1', to: 'region2' }] },
      outlierDetection: false,
    });
    assert.ok(placements.every((p) => p.priority === 0));
  });
});

describe('failoverPriority labels', () => {
  test('endpoints matching more leading labels come first', () => {
    const placements = assignLocalityPriorities({
      client: { labels: { 'topology.istio.io/network': 'n1', version: 'v1' } },
      endpoints: [
        { labels: { 'topology.istio.io/network': 'n1', version: 'v1' } },
        { labels: { 'topology.istio.io/network': 'n1', version: 'v2' } },
        { labels: { 'topology.istio.io/network': 'n2', version: 'v1' } },
      ],
      setting: { failoverPriority: ['topology.istio.io/network', 'version'] },
      outlierDetection: true,
    });
    assert.deepEqual(
      placements.map((p) => p.priority),
      [0, 1, 2],
    );
  });

  test('a label=value entry compares endpoints with that value, not the client', () => {
    const placements = assignLocalityPriorities({
      client: { labels: { version: 'v1' } },
      endpoints: [{ labels: { version: 'v1' } }, { labels: { version: 'v2' } }],
      setting: { failoverPriority: ['version=v2'] },
      outlierDetection: true,
    });
    assert.deepEqual(
      placements.map((p) => p.priority),
      [1, 0],
    );
  });

  test('locality is a label too, and failover rules refine within a label rank', () => {
    const placements = assignLocalityPriorities({
      client: { locality: 'r1/z1', labels: { app: 'x' } },
      endpoints: [{ locality: 'r1/z2' }, { locality: 'r1/z1' }, { locality: 'r2/z1' }, { locality: 'r3/z1' }],
      setting: {
        failoverPriority: ['topology.kubernetes.io/region'],
        failover: [{ from: 'r1', to: 'r3' }],
      },
      outlierDetection: true,
    });
    // Region label: r1 endpoints rank 0, others 1 (×5); then locality: z1 0, z2 2, r3 3, r2 4.
    assert.deepEqual(
      placements.map((p) => p.rank),
      [2, 0, 9, 8],
    );
    assert.deepEqual(
      placements.map((p) => p.priority),
      [1, 0, 3, 2],
    );
  });
});

describe('distribute', () => {
  test('the first rule matching the client sets locality weights; unlisted localities get nothing', () => {
    const placements = assignLocalityPriorities({
      client: { locality: 'us-west/zone1/a' },
      endpoints: [
        { locality: 'us-west/zone1/a' },
        { locality: 'us-west/zone1/b' },
        { locality: 'us-west/zone2/a' },
        { locality: 'us-east/zone1/a' },
      ],
      setting: {
        distribute: [
          { from: 'us-east/*', to: { 'us-east/*': 100 } },
          { from: 'us-west/zone1/*', to: { 'us-west/zone1/*': 80, 'us-west/zone2/*': 20 } },
        ],
      },
      outlierDetection: false,
    });
    // zone1 has two localities of weight 1 each: 80 × 1/2 = 40 apiece.
    assert.deepEqual(
      placements.map((p) => p.localityWeight),
      [40, 40, 20, undefined],
    );
    assert.deepEqual(
      placements.map((p) => p.excluded),
      [false, false, false, true],
    );
    assert.ok(placements.every((p) => p.priority === 0));
  });
});

test('a DestinationRule setting replaces the mesh setting; enabled: false turns it off', () => {
  const mesh = { failover: [{ from: 'a', to: 'b' }] };
  assert.equal(effectiveLocalityLbSetting(mesh, undefined), mesh);
  assert.equal(effectiveLocalityLbSetting(mesh, { enabled: false }), undefined);
  assert.deepEqual(effectiveLocalityLbSetting(mesh, { distribute: [] }), { distribute: [] });
  assert.equal(effectiveLocalityLbSetting({ enabled: false }, undefined), undefined);
});

test('locality rules match with wildcards and omitted parts', () => {
  const l = { region: 'us', zone: 'z1', subZone: 's' };
  assert.ok(localityMatches(l, 'us'));
  assert.ok(localityMatches(l, 'us/*'));
  assert.ok(localityMatches(l, '*/z1/s'));
  assert.ok(!localityMatches(l, 'us/z2'));
  assert.ok(!localityMatches(l, 'eu/*'));
});
