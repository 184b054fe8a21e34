// EDS: ClusterLoadAssignments per outbound cluster, grouped by locality with per-client failover priorities.

import { create, type JsonObject } from '@bufbuild/protobuf';
import type { LocalityLoadBalancerSetting, TrafficPolicy } from '../../api/types/index.js';
import type { Endpoint, Service, ServicePort } from '../../registry/model.js';
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
import { compactPriorities, distributeWeight, endpointPriority, parseLocality } from './locality.js';
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
  mode: 'none' | 'failover' | 'distribute';
}

/** Istio applies locality priorities only with outlier detection (failover needs it) or with `distribute`. */
function localityPlan(index: MeshIndex, policy: TrafficPolicy | undefined): LocalityPlan {
  const setting = policy?.loadBalancer?.localityLbSetting ?? index.mesh.localityLbSetting;
  if (!setting || setting.enabled === false) return { mode: 'none' };
  if (setting.distribute && setting.distribute.length > 0) return { setting, mode: 'distribute' };
  if (policy?.outlierDetection) return { setting, mode: 'failover' };
  return { mode: 'none' };
}

/** The load assignment for one cluster; also used inline for DNS clusters. */
export function loadAssignment(opts: {
  clusterName: string;
  endpoints: readonly Endpoint[];
  client: Locality;
  clientLabels: Record<string, string>;
  plan: LocalityPlan;
}): LoadAssignmentInit {
  const groups = new Map<string, Endpoint[]>();
  for (const e of opts.endpoints) {
    const key = e.locality ?? '';
    const g = groups.get(key);
    if (g) g.push(e);
    else groups.set(key, [e]);
  }
  const keys = [...groups.keys()].sort();
  const raw = keys.map((k) =>
    opts.plan.mode === 'failover' && opts.plan.setting
      ? Math.min(
          ...groups.get(k)!.map((e) =>
            endpointPriority({
              client: opts.client,
              clientLabels: opts.clientLabels,
              endpoint: e,
              setting: opts.plan.setting!,
            }),
          ),
        )
      : 0,
  );
  const priorities = compactPriorities(raw);
  return {
    clusterName: opts.clusterName,
    endpoints: keys.map((k, i) => {
      const list = groups.get(k)!;
      const loc = parseLocality(k);
      const sum = list.reduce((s, e) => s + (e.weight ?? 1), 0);
      const distributed =
        opts.plan.mode === 'distribute' && opts.plan.setting
          ? distributeWeight(opts.plan.setting, opts.client, k)
          : undefined;
      return {
        locality: { region: loc.region, zone: loc.zone, subZone: loc.subZone },
        priority: priorities[i] ?? 0,
        // gRPC drops a locality without a positive weight, so every locality gets one.
        loadBalancingWeight: distributed === undefined ? Math.max(1, sum) : Math.max(0, distributed),
        lbEndpoints: list.map((e) => ({
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
      plan: { mode: 'none' },
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
