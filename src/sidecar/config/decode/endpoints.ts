// ClusterLoadAssignment → EndpointSet: the hosts sidecar/upstream/lb balances over (its hostsFromLoadAssignment).

import {
  EndpointSchema,
  LbEndpointSchema,
  LocalityLbEndpointsSchema,
} from '../../../xds/gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import {
  type ClusterLoadAssignment,
  ClusterLoadAssignment_PolicySchema,
  ClusterLoadAssignmentSchema,
} from '../../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { hostsFromLoadAssignment } from '../../upstream/lb/xds.js';
import { parseIp } from '../match/ip.js';
import type { EndpointSet } from '../model.js';
import { fieldPolicy } from './fields.js';
import { at, type DecodeContext } from './problems.js';

const CLA_FIELDS = fieldPolicy(ClusterLoadAssignmentSchema, {
  handled: ['cluster_name', 'endpoints', 'policy'],
});
const POLICY_FIELDS = fieldPolicy(ClusterLoadAssignment_PolicySchema, {
  handled: ['overprovisioning_factor', 'weighted_priority_health'],
});
const LOCALITY_FIELDS = fieldPolicy(LocalityLbEndpointsSchema, {
  handled: ['locality', 'lb_endpoints', 'load_balancing_weight', 'priority'],
  ignored: ['metadata', 'proximity'],
});
const LB_ENDPOINT_FIELDS = fieldPolicy(LbEndpointSchema, {
  // endpoint_name is refused below, with the reason.
  handled: ['endpoint', 'endpoint_name', 'health_status', 'metadata', 'load_balancing_weight'],
});
const ENDPOINT_FIELDS = fieldPolicy(EndpointSchema, {
  handled: ['address', 'hostname'],
  // Only active health checking reads it, and Trellis does no active health checking.
  ignored: ['health_check_config'],
});

export interface EndpointRules {
  /** STATIC and EDS endpoints must be IP literals; DNS clusters name hosts. */
  requireIp: boolean;
}

export function endpointSet(
  ctx: DecodeContext,
  cla: ClusterLoadAssignment,
  path: string,
  rules: EndpointRules = { requireIp: true },
): EndpointSet | undefined {
  CLA_FIELDS.check(ctx, cla, path);
  if (cla.policy) POLICY_FIELDS.check(ctx, cla.policy, at(path, 'policy'));
  if (cla.policy?.overprovisioningFactor === 0)
    ctx.report(at(path, 'policy.overprovisioning_factor'), 'must be greater than 0');
  const before = ctx.problemCount;
  cla.endpoints.forEach((group, i) => {
    const gp = at(at(path, 'endpoints'), i);
    LOCALITY_FIELDS.check(ctx, group, gp);
    if (group.loadBalancingWeight === 0)
      ctx.report(at(gp, 'load_balancing_weight'), 'must be greater than 0');
    group.lbEndpoints.forEach((lbe, j) => {
      const p = at(at(gp, 'lb_endpoints'), j);
      LB_ENDPOINT_FIELDS.check(ctx, lbe, p);
      if (lbe.loadBalancingWeight === 0) ctx.report(at(p, 'load_balancing_weight'), 'must be greater than 0');
      if (lbe.hostIdentifier.case !== 'endpoint') {
        ctx.report(p, 'only inline endpoints are supported (endpoint_name needs named_endpoints)');
        return;
      }
      const ep = lbe.hostIdentifier.value;
      ENDPOINT_FIELDS.check(ctx, ep, at(p, 'endpoint'));
      const addr = ep.address?.address;
      const ap = at(p, 'endpoint.address');
      if (addr?.case !== 'socketAddress') {
        ctx.report(ap, 'a socket_address is required');
        return;
      }
      if (addr.value.portSpecifier.case !== 'portValue') {
        ctx.report(at(ap, 'socket_address'), 'port_value is required (named ports are not supported)');
        return;
      }
      if (rules.requireIp && !parseIp(addr.value.address)) {
        ctx.report(at(ap, 'socket_address.address'), `"${addr.value.address}" is not an IP address`);
      }
    });
  });
  if (ctx.problemCount > before) return undefined;
  const hosts = hostsFromLoadAssignment(cla);
  return {
    clusterName: cla.clusterName,
    hosts: hosts.hosts,
    overprovisioningFactor: hosts.overprovisioningFactor,
    weightedPriorityHealth: hosts.weightedPriorityHealth,
  };
}
