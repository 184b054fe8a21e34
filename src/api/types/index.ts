// Every resource kind Trellis understands, with its API group, served versions and spec type.

import type { ConfigMapData, DeploymentSpec, EmptySpec, ServiceSpec } from './kube.js';
import type { Resource } from './meta.js';
import type {
  DestinationRuleSpec,
  EnvoyFilterSpec,
  GatewaySpec,
  ServiceEntrySpec,
  SidecarSpec,
  VirtualServiceSpec,
  WorkloadEntrySpec,
} from './networking.js';
import type {
  AuthorizationPolicySpec,
  PeerAuthenticationSpec,
  RequestAuthenticationSpec,
} from './security.js';
import type { TelemetrySpec } from './telemetry.js';

export * from './kube.js';
export * from './mesh-config.js';
export * from './meta.js';
export * from './networking.js';
export * from './security.js';
export * from './telemetry.js';

export interface KindInfo {
  kind: string;
  group: string;
  /** Versions served, newest first; the first is what Trellis writes. */
  versions: readonly string[];
  namespaced: boolean;
  /** Plural, lower-case name as in `kubectl get virtualservices`; also accepted by `trellis get`. */
  plural: string;
  shortNames: readonly string[];
}

const NETWORKING = ['v1', 'v1beta1', 'v1alpha3'] as const;
const SECURITY = ['v1', 'v1beta1'] as const;

export const KINDS = {
  VirtualService: {
    kind: 'VirtualService',
    group: 'networking.istio.io',
    versions: NETWORKING,
    namespaced: true,
    plural: 'virtualservices',
    shortNames: ['vs'],
  },
  DestinationRule: {
    kind: 'DestinationRule',
    group: 'networking.istio.io',
    versions: NETWORKING,
    namespaced: true,
    plural: 'destinationrules',
    shortNames: ['dr'],
  },
  Gateway: {
    kind: 'Gateway',
    group: 'networking.istio.io',
    versions: NETWORKING,
    namespaced: true,
    plural: 'gateways',
    shortNames: ['gw'],
  },
  ServiceEntry: {
    kind: 'ServiceEntry',
    group: 'networking.istio.io',
    versions: NETWORKING,
    namespaced: true,
    plural: 'serviceentries',
    shortNames: ['se'],
  },
  WorkloadEntry: {
    kind: 'WorkloadEntry',
    group: 'networking.istio.io',
    versions: NETWORKING,
    namespaced: true,
    plural: 'workloadentries',
    shortNames: ['we'],
  },
  Sidecar: {
    kind: 'Sidecar',
    group: 'networking.istio.io',
    versions: NETWORKING,
    namespaced: true,
    plural: 'sidecars',
    shortNames: [],
  },
  EnvoyFilter: {
    kind: 'EnvoyFilter',
    group: 'networking.istio.io',
    versions: ['v1alpha3'],
    namespaced: true,
    plural: 'envoyfilters',
    shortNames: [],
  },
  PeerAuthentication: {
    kind: 'PeerAuthentication',
    group: 'security.istio.io',
    versions: SECURITY,
    namespaced: true,
    plural: 'peerauthentications',
    shortNames: ['pa'],
  },
  AuthorizationPolicy: {
    kind: 'AuthorizationPolicy',
    group: 'security.istio.io',
    versions: SECURITY,
    namespaced: true,
    plural: 'authorizationpolicies',
    shortNames: ['ap'],
  },
  RequestAuthentication: {
    kind: 'RequestAuthentication',
    group: 'security.istio.io',
    versions: SECURITY,
    namespaced: true,
    plural: 'requestauthentications',
    shortNames: ['ra'],
  },
  Telemetry: {
    kind: 'Telemetry',
    group: 'telemetry.istio.io',
    versions: ['v1', 'v1alpha1'],
    namespaced: true,
    plural: 'telemetries',
    shortNames: ['telemetry'],
  },
  Namespace: {
    kind: 'Namespace',
    group: '',
    versions: ['v1'],
    namespaced: false,
    plural: 'namespaces',
    shortNames: ['ns'],
  },
  ServiceAccount: {
    kind: 'ServiceAccount',
    group: '',
    versions: ['v1'],
    namespaced: true,
    plural: 'serviceaccounts',
    shortNames: ['sa'],
  },
  Service: {
    kind: 'Service',
    group: '',
    versions: ['v1'],
    namespaced: true,
    plural: 'services',
    shortNames: ['svc'],
  },
  ConfigMap: {
    kind: 'ConfigMap',
    group: '',
    versions: ['v1'],
    namespaced: true,
    plural: 'configmaps',
    shortNames: ['cm'],
  },
  Deployment: {
    kind: 'Deployment',
    group: 'apps',
    versions: ['v1'],
    namespaced: true,
    plural: 'deployments',
    shortNames: ['deploy'],
  },
} as const satisfies Record<string, KindInfo>;

export type KindName = keyof typeof KINDS;

export type VirtualService = Resource<'VirtualService', VirtualServiceSpec>;
export type DestinationRule = Resource<'DestinationRule', DestinationRuleSpec>;
export type Gateway = Resource<'Gateway', GatewaySpec>;
export type ServiceEntry = Resource<'ServiceEntry', ServiceEntrySpec>;
export type WorkloadEntry = Resource<'WorkloadEntry', WorkloadEntrySpec>;
export type Sidecar = Resource<'Sidecar', SidecarSpec>;
export type EnvoyFilter = Resource<'EnvoyFilter', EnvoyFilterSpec>;
export type PeerAuthentication = Resource<'PeerAuthentication', PeerAuthenticationSpec>;
export type AuthorizationPolicy = Resource<'AuthorizationPolicy', AuthorizationPolicySpec>;
export type RequestAuthentication = Resource<'RequestAuthentication', RequestAuthenticationSpec>;
export type Telemetry = Resource<'Telemetry', TelemetrySpec>;
export type Namespace = Resource<'Namespace', EmptySpec>;
export type ServiceAccount = Resource<'ServiceAccount', EmptySpec>;
export type KubeService = Resource<'Service', ServiceSpec>;
/** ConfigMap's `data` is kept in `spec` internally so that every resource has the same shape. */
export type ConfigMap = Resource<'ConfigMap', ConfigMapData>;
export type Deployment = Resource<'Deployment', DeploymentSpec>;

export interface KindSpecs {
  VirtualService: VirtualServiceSpec;
  DestinationRule: DestinationRuleSpec;
  Gateway: GatewaySpec;
  ServiceEntry: ServiceEntrySpec;
  WorkloadEntry: WorkloadEntrySpec;
  Sidecar: SidecarSpec;
  EnvoyFilter: EnvoyFilterSpec;
  PeerAuthentication: PeerAuthenticationSpec;
  AuthorizationPolicy: AuthorizationPolicySpec;
  RequestAuthentication: RequestAuthenticationSpec;
  Telemetry: TelemetrySpec;
  Namespace: EmptySpec;
  ServiceAccount: EmptySpec;
  Service: ServiceSpec;
  ConfigMap: ConfigMapData;
  Deployment: DeploymentSpec;
}

export type TypedResource<K extends KindName> = Resource<K, KindSpecs[K]>;

export function kindInfo(kind: string): KindInfo | undefined {
  return (KINDS as Record<string, KindInfo>)[kind];
}
