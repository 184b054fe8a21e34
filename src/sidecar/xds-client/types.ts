// The xDS client's vocabulary: resource kinds, per-kind decoders, immutable snapshots, and ACK/NACK records.

import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ClusterLoadAssignmentSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { RouteConfigurationSchema } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds/type-urls.js';

/** In the order a consistent update is applied: a parent after what it needs. */
export const KINDS = ['endpoint', 'cluster', 'route', 'listener'] as const;
export type ResourceKind = (typeof KINDS)[number];

export const KIND_TYPE_URL: Readonly<Record<ResourceKind, string>> = {
  listener: LISTENER_TYPE,
  route: ROUTE_TYPE,
  cluster: CLUSTER_TYPE,
  endpoint: ENDPOINT_TYPE,
};

export function kindOfTypeUrl(typeUrl: string): ResourceKind | undefined {
  for (const k of KINDS) if (KIND_TYPE_URL[k] === typeUrl) return k;
  return undefined;
}

/** Short names as Envoy and istioctl print them. */
export const KIND_SHORT: Readonly<Record<ResourceKind, string>> = {
  listener: 'LDS',
  route: 'RDS',
  cluster: 'CDS',
  endpoint: 'EDS',
};

export const KIND_SCHEMA = {
  listener: ListenerSchema,
  route: RouteConfigurationSchema,
  cluster: ClusterSchema,
  endpoint: ClusterLoadAssignmentSchema,
} as const;

/** The Envoy message of each kind, as decoded off the wire. */
export interface ProtoResources {
  listener: Listener;
  route: RouteConfiguration;
  cluster: Cluster;
  endpoint: ClusterLoadAssignment;
}

/** The consumer's internal type for each kind (the sidecar's validated config objects). */
export interface ResourceTypes {
  listener: unknown;
  route: unknown;
  cluster: unknown;
  endpoint: unknown;
}

/**
 * Validates one Envoy message into the consumer's type. Throwing rejects the whole response (NACK) and
 * the previous config keeps serving; the error's message should list every reason, naming the fields.
 */
export type XdsDecoders<T extends ResourceTypes> = {
  [K in ResourceKind]: (message: ProtoResources[K]) => T[K];
};

/** Which resources of the dependent kind a parent needs before it can be applied (Envoy's warming). */
export interface XdsReferences {
  /** EDS names a cluster needs (default: eds_cluster_config.service_name, or its name, for EDS clusters). */
  cluster: (message: Cluster) => string[];
  /** RDS names a listener needs (default: every HCM's rds.route_config_name, api_listener included). */
  listener: (message: Listener) => string[];
}

/** An immutable, internally consistent view of the config: what the data plane serves from. */
export interface XdsSnapshot<T extends ResourceTypes> {
  readonly listeners: ReadonlyMap<string, T['listener']>;
  readonly routes: ReadonlyMap<string, T['route']>;
  readonly clusters: ReadonlyMap<string, T['cluster']>;
  readonly endpoints: ReadonlyMap<string, T['endpoint']>;
  /** The ACKed version of each kind when the snapshot was made. */
  readonly versions: Readonly<Record<ResourceKind, string>>;
  /** Increments with every published snapshot. */
  readonly sequence: number;
}

export interface ClientNack {
  readonly kind: ResourceKind;
  readonly typeUrl: string;
  /** The version (SotW version_info, delta system_version_info) that was rejected. */
  readonly version: string;
  readonly nonce: string;
  /** The error_detail sent: every reason, per resource. */
  readonly message: string;
  /** Wall-clock ms. */
  readonly at: number;
}

/** One received resource, for the admin config_dump. */
export interface ResourceEntry<V> {
  readonly name: string;
  readonly version: string;
  readonly value: V;
  /** The resource exactly as received (type_url + bytes). */
  readonly any: { typeUrl: string; value: Uint8Array };
  /** Names of the dependent kind it needs. */
  readonly references: readonly string[];
  /** Wall-clock ms when received. */
  readonly updatedAt: number;
}

export interface ResourceState<V> extends ResourceEntry<V> {
  /** `active` when serving; `warming` when waiting for what it references (an older version may serve). */
  readonly state: 'active' | 'warming';
}
