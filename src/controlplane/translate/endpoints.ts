// EDS: ClusterLoadAssignments per outbound cluster, grouped by locality with per-client failover priorities.

import { create, type JsonObject } from '@bufbuild/protobuf';
import type { LocalityLoadBalancerSetting, TrafficPolicy } from '../../api/types/index.js';
import type { Endpoint, Service, ServicePort } from '../../registry/model.js';
import { assignLocalityPriorities, effectiveLocalityLbSetting } from '../../shared/locality-priority.js';
import { HealthStatus } from '../../xds/gen/envoy/config/core/v3/health_check_pb.js';
import {
  type ClusterLoadAssignment,
  ClusterLoadAssignmentSchema,
} from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { type EffectiveDestinationRule, effectiveTrafficPolicy } from '../index/destination-rule-index.js';
import { selectorMatches } from '../index/labels.js';
import type { MeshIndex } from '../index/mesh-index.js';
import { destinationRuleFor } from './clusters.js';
import { type Init, outboundClusterName, socketAddress } from './envoy.js';
import type { Locality } from './proxy.js';
import type { ProxyScope } from './scope.js';

type LoadAssignmentInit = Init<typeof ClusterLoadAssignmentSchema>;

function endpointMetadata(e: Endpoint): { filterMetadata: Record<string, JsonObject> } {
  const canonical = e.labels['service.istio.io/canonical-name'] ?? e.labels.app ?? e.workloadName ?? '';
  const revision = e.labels['service.istio.io/canonical-revision'] ?? e.labels.version ?? 'latest';
  const md: Record<string, JsonObject> = {};
  if (e.workloadName)
    md.istio = { workload: `${e.workloadName};${e.namespace};${canonical};${revision};Kubernetes` };
  if (e.tlsMode === 'istio') md['envoy.transport_socket_match'] = { tlsMode: 'istio' };
  return { filterMetadata: md };
}

interface LocalityPlan {
  setting?: LocalityLoadBalancerSetting;
  outlierDetection: boolean;
}

/** A DestinationRule's localityLbSetting replaces the mesh one; failover needs outlier detection (Istio). */
function localityPlan(index: MeshIndex, policy: TrafficPolicy | undefined): LocalityPlan {
  return {
    setting: effectiveLocalityLbSetting(
      index.mesh.localityLbSetting,
      policy?.loadBalancer?.localityLbSetting,
    ),
    outlierDetection: policy?.outlierDetection !== undefined,
  };
}

/** The load assignment for one cluster, grouped by (locality, priority); also used inline for DNS clusters. */
export function loadAssignment(opts: {
  clusterName: string;
  endpoints: readonly Endpoint[];
  client: Locality;
  clientLabels: Record<string, string>;
  plan: LocalityPlan;
}): LoadAssignmentInit {
  const placements = assignLocalityPriorities({
    client: { locality: opts.client, labels: opts.clientLabels },
    endpoints: opts.endpoints.map((e) => ({
      locality: e.locality,
      labels: e.labels,
      weight: e.weight,
      network: e.network,
    })),
    setting: opts.plan.setting,
    outlierDetection: opts.plan.outlierDetection,
  });
  const groups = new Map<
    string,
    { locality: string; priority: number; weight?: number; endpoints: Endpoint[] }
  >();
  opts.endpoints.forEach((e, i) => {
    const p = placements[i]!;
    if (p.excluded) return;
    const key = `${e.locality ?? ''}|${p.priority}`;
    const g = groups.get(key) ?? {
      locality: e.locality ?? '',
      priority: p.priority,
      weight: p.localityWeight,
      endpoints: [],
    };
    g.endpoints.push(e);
    groups.set(key, g);
  });
  const ordered = [...groups.values()].sort(
    (a, b) => a.priority - b.priority || (a.locality < b.locality ? -1 : a.locality > b.locality ? 1 : 0),
  );
  return {
    clusterName: opts.clusterName,
    endpoints: ordered.map((g) => {
      const [region = '', zone = '', subZone = ''] = g.locality.split('/');
      const sum = g.endpoints.reduce((s, e) => s + (e.weight ?? 1), 0);
      return {
        locality: { region, zone, subZone },
        priority: g.priority,
        // gRPC drops a locality without a positive weight, so every locality gets one.
        loadBalancingWeight: Math.max(1, g.weight ?? sum),
        lbEndpoints: g.endpoints.map((e) => ({
          hostIdentifier: {
            case: 'endpoint' as const,
            value: { address: socketAddress(e.address, e.port), hostname: e.podName ?? '' },
          },
          healthStatus: e.healthy ? HealthStatus.HEALTHY : HealthStatus.UNHEALTHY,
          loadBalancingWeight: e.weight ?? 1,
          metadata: endpointMetadata(e),
        })),
      };
    }),
    policy: { overprovisioningFactor: 140 },
  };
}

function endpointsFor(
  index: MeshIndex,
  svc: Service,
  port: ServicePort,
  subsetLabels: Record<string, string> | undefined,
): Endpoint[] {
  return index.services
    .endpoints(svc.hostname)
    .filter((e) => e.servicePort === port.port && (!subsetLabels || selectorMatches(subsetLabels, e.labels)));
}

/** DNS clusters list host names inline; with no endpoints, the service host itself on the service port. */
export function dnsLoadAssignment(index: MeshIndex, scope: ProxyScope) {
  return (
    svc: Service,
    port: ServicePort,
    subsetLabels: Record<string, string> | undefined,
    clusterName: string,
  ): LoadAssignmentInit => {
    let eps = endpointsFor(index, svc, port, subsetLabels);
    if (eps.length === 0) {
      eps = [
        {
          address: svc.hostname,
          port: port.targetPort,
          servicePort: port.port,
          labels: {},
          namespace: svc.namespace,
          healthy: true,
          tlsMode: 'disabled',
        },
      ];
    }
    return loadAssignment({
      clusterName,
      endpoints: eps,
      client: scope.proxy.locality,
      clientLabels: scope.proxy.labels,
      plan: { outlierDetection: false },
    });
  };
}

function assignmentFor(
  index: MeshIndex,
  scope: ProxyScope,
  svc: Service,
  port: ServicePort,
  subsetName: string,
  rule: EffectiveDestinationRule | undefined,
) {
  const subset = subsetName ? rule?.spec.subsets?.find((s) => s.name === subsetName) : undefined;
  const policy = effectiveTrafficPolicy(rule?.spec, subset, port.port);
  return create(
    ClusterLoadAssignmentSchema,
    loadAssignment({
      clusterName: outboundClusterName(port.port, subsetName, svc.hostname),
      endpoints: endpointsFor(index, svc, port, subset ? (subset.labels ?? {}) : undefined),
      client: scope.proxy.locality,
      clientLabels: scope.proxy.labels,
      plan: localityPlan(index, policy),
    }),
  );
}

/** One assignment per EDS cluster the proxy has (registry-backed services: resolution STATIC). */
export function buildEndpoints(index: MeshIndex, scope: ProxyScope): ClusterLoadAssignment[] {
  const out: ClusterLoadAssignment[] = [];
  for (const svc of scope.services) {
    if (svc.resolution !== 'STATIC') continue;
    const rule = destinationRuleFor(index, scope, svc);
    if (rule?.spec.trafficPolicy?.loadBalancer?.simple === 'PASSTHROUGH') continue;
    for (const port of svc.ports) {
      out.push(assignmentFor(index, scope, svc, port, '', rule));
      for (const s of rule?.spec.subsets ?? [])
        out.push(assignmentFor(index, scope, svc, port, s.name, rule));
    }
  }
  return out;
}
