import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { messageFromJson } from '../../../xds/any.js';
import { ClusterSchema } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { seededRandom } from './conformance.js';
import { reconcileHosts } from './host.js';
import { createLoadBalancer } from './load-balancer.js';
import { hostsFromLoadAssignment, lbSettingsFromCluster } from './xds.js';

const NAME = 'outbound|9080||reviews.default.svc.cluster.local';

test('a cluster as Istio emits it for consistentHash + outlier detection', () => {
  const cluster = messageFromJson(ClusterSchema, {
    name: NAME,
    type: 'EDS',
    lbPolicy: 'RING_HASH',
    ringHashLbConfig: { minimumRingSize: '2048' },
    commonLbConfig: { healthyPanicThreshold: {}, localityWeightedLbConfig: {} },
  });
  assert.deepEqual(lbSettingsFromCluster(cluster), {
    policy: { type: 'RING_HASH', minimumRingSize: 2048 },
    healthyPanicThreshold: 0,
    localityWeighted: true,
  });
});

test("a cluster without lb settings gets Envoy's defaults: round robin, panic at 50%", () => {
  assert.deepEqual(lbSettingsFromCluster(create(ClusterSchema, { name: NAME })), {
    policy: { type: 'ROUND_ROBIN' },
    healthyPanicThreshold: 50,
    localityWeighted: false,
  });
  const passthrough = messageFromJson(ClusterSchema, {
    name: 'PassthroughCluster',
    type: 'ORIGINAL_DST',
    lbPolicy: 'CLUSTER_PROVIDED',
  });
  assert.deepEqual(lbSettingsFromCluster(passthrough).policy, { type: 'ORIGINAL_DST' });
});

test('unsupported balancer settings are refused, naming the cluster', () => {
  const murmur = messageFromJson(ClusterSchema, {
    name: NAME,
    lbPolicy: 'RING_HASH',
    ringHashLbConfig: { hashFunction: 'MURMUR_HASH_2' },
  });
  assert.throws(
    () => lbSettingsFromCluster(murmur),
    /cluster "outbound\|9080\|\|reviews.default.svc.cluster.local": ring hash function MURMUR_HASH_2/,
  );
});

test('EDS endpoints become hosts with priority, locality weight, health and weight, ready to balance', () => {
  const cla = messageFromJson(ClusterLoadAssignmentSchema, {
    clusterName: NAME,
    endpoints: [
      {
        locality: { region: 'us', zone: 'a' },
        loadBalancingWeight: 3,
        lbEndpoints: [
          {
            endpoint: { address: { socketAddress: { address: '10.0.0.1', portValue: 9080 } } },
            loadBalancingWeight: 2,
          },
          {
            endpoint: { address: { socketAddress: { address: '10.0.0.2', portValue: 9080 } } },
            healthStatus: 'DRAINING',
          },
        ],
      },
      {
        locality: { region: 'eu' },
        priority: 1,
        lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '10.1.0.1', portValue: 9080 } } } }],
      },
    ],
    policy: { overprovisioningFactor: 200 },
  });
  const { hosts, overprovisioningFactor } = hostsFromLoadAssignment(cla);
  assert.equal(overprovisioningFactor, 200);
  assert.deepEqual(
    hosts.map((h) => [h.address, h.weight, h.priority, h.localityWeight, h.health, h.locality?.region]),
    [
      ['10.0.0.1', 2, 0, 3, 'UNKNOWN', 'us'],
      ['10.0.0.2', undefined, 0, 3, 'DRAINING', 'us'],
      ['10.1.0.1', undefined, 1, 1, 'UNKNOWN', 'eu'],
    ],
  );
  // Half of P0 is draining; with factor 2.0 P0 still counts as fully healthy: no spill to eu.
  const lb = createLoadBalancer({
    policy: { type: 'ROUND_ROBIN' },
    hosts: reconcileHosts([], hosts),
    overprovisioningFactor,
    random: seededRandom(1),
  });
  assert.deepEqual(lb.load.healthyLoad, [100, 0]);
  assert.equal(new Set(Array.from({ length: 20 }, () => lb.pick()!.address)).size, 1);
});
