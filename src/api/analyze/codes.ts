// Analyzer message codes: Istio's where the meaning is the same (istioctl analyze), Trellis's own (TRL) otherwise.

import type { Severity } from '../messages.js';

export interface AnalysisCode {
  code: string;
  name: string;
  severity: Severity;
  description: string;
}

function c(code: string, name: string, severity: Severity, description: string): AnalysisCode {
  return { code, name, severity, description };
}

export const CODES = {
  ReferencedResourceNotFound: c(
    'IST0101',
    'ReferencedResourceNotFound',
    'error',
    'A resource being referenced does not exist.',
  ),
  GatewayPortNotOnWorkload: c(
    'IST0104',
    'GatewayPortNotOnWorkload',
    'warning',
    'A Gateway listens on a port that its workload does not expose.',
  ),
  ConflictingMeshGatewayVirtualServiceHosts: c(
    'IST0109',
    'ConflictingMeshGatewayVirtualServiceHosts',
    'error',
    'Several VirtualServices bound to the mesh define the same host; sidecars do not merge them.',
  ),
  MultipleSidecarsWithoutWorkloadSelectors: c(
    'IST0111',
    'MultipleSidecarsWithoutWorkloadSelectors',
    'error',
    'More than one Sidecar in a namespace has no workload selector.',
  ),
  VirtualServiceDestinationPortSelectorRequired: c(
    'IST0112',
    'VirtualServiceDestinationPortSelectorRequired',
    'error',
    'A VirtualService routes to a service with several ports without saying which.',
  ),
  NoMatchingWorkloadsFound: c(
    'IST0127',
    'NoMatchingWorkloadsFound',
    'warning',
    'No workload has the labels a resource selects.',
  ),
  NoServerCertificateVerificationDestinationLevel: c(
    'IST0128',
    'NoServerCertificateVerificationDestinationLevel',
    'warning',
    'TLS origination without caCertificates: the server certificate is not checked against a chosen CA.',
  ),
  NoServerCertificateVerificationPortLevel: c(
    'IST0129',
    'NoServerCertificateVerificationPortLevel',
    'warning',
    'As IST0128, for a port-level traffic policy.',
  ),
  VirtualServiceUnreachableRule: c(
    'IST0130',
    'VirtualServiceUnreachableRule',
    'warning',
    'A route rule can never match: an earlier rule catches its traffic.',
  ),
  VirtualServiceIneffectiveMatch: c(
    'IST0131',
    'VirtualServiceIneffectiveMatch',
    'info',
    'A match of a rule is covered by an earlier rule.',
  ),
  VirtualServiceHostNotFoundInGateway: c(
    'IST0132',
    'VirtualServiceHostNotFoundInGateway',
    'warning',
    "A VirtualService host is not among its Gateway's hosts.",
  ),
  ConflictingGateways: c(
    'IST0145',
    'ConflictingGateways',
    'error',
    'Two Gateways select the same workload, port and hosts.',
  ),
  EnvoyFilterUsesReplaceOperationIncorrectly: c(
    'IST0152',
    'EnvoyFilterUsesReplaceOperationIncorrectly',
    'error',
    'The REPLACE operation is only valid for HTTP_FILTER and NETWORK_FILTER.',
  ),
  EnvoyFilterUsesAddOperationIncorrectly: c(
    'IST0153',
    'EnvoyFilterUsesAddOperationIncorrectly',
    'error',
    'The ADD operation is ignored when applyTo is ROUTE_CONFIGURATION or HTTP_ROUTE.',
  ),
  EnvoyFilterUsesRemoveOperationIncorrectly: c(
    'IST0154',
    'EnvoyFilterUsesRemoveOperationIncorrectly',
    'error',
    'The REMOVE operation is ignored when applyTo is ROUTE_CONFIGURATION or HTTP_ROUTE.',
  ),
  MultipleTelemetriesWithoutWorkloadSelectors: c(
    'IST0160',
    'MultipleTelemetriesWithoutWorkloadSelectors',
    'error',
    'More than one Telemetry in a namespace has no workload selector.',
  ),
  PeerAuthenticationPortNotOnWorkload: c(
    'TRL0001',
    'PeerAuthenticationPortNotOnWorkload',
    'warning',
    'A portLevelMtls port is not a container port of any workload the policy selects.',
  ),
  ResourceReplaced: c(
    'TRL0002',
    'ResourceReplaced',
    'info',
    'A resource is defined more than once in the input; the later definition is analyzed.',
  ),
  RegistryNotInInput: c(
    'TRL0003',
    'RegistryNotInInput',
    'info',
    'The input has no Kubernetes Services, so references to cluster hosts were not checked.',
  ),
} as const satisfies Record<string, AnalysisCode>;

export type CodeName = keyof typeof CODES;
