// Balancer settings from Envoy's Cluster and hosts from its ClusterLoadAssignment (EDS).

import { TrellisError } from '../../../shared/errors.js';
import {
  type Cluster,
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  Cluster_RingHashLbConfig_HashFunction,
} from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HealthStatus } from '../../../xds/gen/envoy/config/core/v3/health_check_pb.js';
import type { ClusterLoadAssignment } from '../../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { EndpointHealth, HostInit } from './host.js';
import { DEFAULT_OVERPROVISIONING_FACTOR, DEFAULT_PANIC_THRESHOLD } from './priority-load.js';
import type { LbPolicy } from './types.js';

export interface ClusterLbSettings {
  policy: LbPolicy;
  /** Percent (Envoy default 50; Istio sets minHealthPercent, 0 by default, with outlier detection). */
  healthyPanicThreshold: number;
  localityWeighted: boolean;
}

/** Reads `lb_policy`, its config and `common_lb_config`; refuses what Trellis cannot honour, by name. */
export function lbSettingsFromCluster(cluster: Cluster): ClusterLbSettings {
  const where = `cluster "${cluster.name}"`;
  const common = cluster.commonLbConfig;
  const settings = {
    healthyPanicThreshold: common?.healthyPanicThreshold?.value ?? DEFAULT_PANIC_THRESHOLD,
    localityWeighted: common?.localityConfigSpecifier.case === 'localityWeightedLbConfig',
  };
  const config = cluster.lbConfig;
  switch (cluster.lbPolicy) {
    case Cluster_LbPolicy.ROUND_ROBIN:
      return { ...settings, policy: { type: 'ROUND_ROBIN' } };
    case Cluster_LbPolicy.LEAST_REQUEST: {
      const lr = config.case === 'leastRequestLbConfig' ? config.value : undefined;
      const policy: LbPolicy = { type: 'LEAST_REQUEST' };
      if (lr?.choiceCount !== undefined) policy.choiceCount = lr.choiceCount;
      if (lr?.activeRequestBias?.defaultValue !== undefined)
        policy.activeRequestBias = lr.activeRequestBias.defaultValue;
      return { ...settings, policy };
    }
    case Cluster_LbPolicy.RANDOM:
      return { ...settings, policy: { type: 'RANDOM' } };
    case Cluster_LbPolicy.RING_HASH: {
      const rh = config.case === 'ringHashLbConfig' ? config.value : undefined;
      if (rh && rh.hashFunction !== Cluster_RingHashLbConfig_HashFunction.XX_HASH) {
        throw new TrellisError(
          'LB_POLICY',
          `${where}: ring hash function MURMUR_HASH_2 is not supported (use XX_HASH)`,
        );
      }
      const policy: LbPolicy = { type: 'RING_HASH' };
      if (rh?.minimumRingSize !== undefined) policy.minimumRingSize = Number(rh.minimumRingSize);
      if (rh?.maximumRingSize !== undefined) policy.maximumRingSize = Number(rh.maximumRingSize);
      return { ...settings, policy };
    }
    case Cluster_LbPolicy.MAGLEV: {
      const mg = config.case === 'maglevLbConfig' ? config.value : undefined;
      const policy: LbPolicy = { type: 'MAGLEV' };
      if (mg?.tableSize !== undefined) policy.tableSize = Number(mg.tableSize);
      return { ...settings, policy };
    }
    case Cluster_LbPolicy.CLUSTER_PROVIDED:
      if (
        cluster.clusterDiscoveryType.case === 'type' &&
        cluster.clusterDiscoveryType.value === Cluster_DiscoveryType.ORIGINAL_DST
      ) {
        return { ...settings, policy: { type: 'ORIGINAL_DST' } };
      }
      throw new TrellisError(
        'LB_POLICY',
        `${where}: CLUSTER_PROVIDED is only supported for ORIGINAL_DST clusters`,
      );
    default:
      throw new TrellisError(
        'LB_POLICY',
        `${where}: lb_policy ${Cluster_LbPolicy[cluster.lbPolicy] ?? cluster.lbPolicy} is not supported`,
      );
  }
}

export interface LoadAssignmentHosts {
  hosts: HostInit[];
  /** Percent; `policy.overprovisioning_factor` (default 140). */
  overprovisioningFactor: number;
  weightedPriorityHealth: boolean;
}

const HEALTH: Record<number, EndpointHealth> = {
  [HealthStatus.UNKNOWN]: 'UNKNOWN',
  [HealthStatus.HEALTHY]: 'HEALTHY',
  [HealthStatus.UNHEALTHY]: 'UNHEALTHY',
  [HealthStatus.DRAINING]: 'DRAINING',
  [HealthStatus.TIMEOUT]: 'TIMEOUT',
  [HealthStatus.DEGRADED]: 'DEGRADED',
};

/** One HostInit per `lb_endpoints` entry with a socket address; named ports and pipes are refused. */
export function hostsFromLoadAssignment(cla: ClusterLoadAssignment): LoadAssignmentHosts {
  const hosts: HostInit[] = [];
  cla.endpoints.forEach((group, i) => {
    const locality = group.locality
      ? { region: group.locality.region, zone: group.locality.zone, subZone: group.locality.subZone }
      : undefined;
    group.lbEndpoints.forEach((lbe, j) => {
      const where = `ClusterLoadAssignment "${cla.clusterName}" endpoints[${i}].lb_endpoints[${j}]`;
      if (lbe.hostIdentifier.case !== 'endpoint') {
        throw new TrellisError('EDS', `${where}: only inline endpoints are supported`);
      }
      const addr = lbe.hostIdentifier.value.address?.address;
      if (addr?.case !== 'socketAddress' || addr.value.portSpecifier.case !== 'portValue') {
        throw new TrellisError('EDS', `${where}: expected socket_address with port_value`);
      }
      const init: HostInit = {
        address: addr.value.address,
        port: addr.value.portSpecifier.value,
        priority: group.priority,
        localityWeight: group.loadBalancingWeight ?? 1,
        health: HEALTH[lbe.healthStatus] ?? 'UNKNOWN',
        metadata: lbe.metadata?.filterMetadata ?? {},
        hostname: lbe.hostIdentifier.value.hostname,
      };
      if (locality) init.locality = locality;
      if (lbe.loadBalancingWeight !== undefined) init.weight = lbe.loadBalancingWeight;
      hosts.push(init);
    });
  });
  return {
    hosts,
    overprovisioningFactor: cla.policy?.overprovisioningFactor ?? DEFAULT_OVERPROVISIONING_FACTOR,
    weightedPriorityHealth: cla.policy?.weightedPriorityHealth ?? false,
  };
}
