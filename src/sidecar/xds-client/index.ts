// The sidecar's xDS client: ADS (delta, or SotW) to immutable, consistent snapshots of decoded config.

export { type DecodeResult, decodeResources, type WireResource } from './decode.js';
export { FrozenMap } from './frozen-map.js';
export { protoDecoders } from './proto-decoders.js';
export { clusterEndpointNames, defaultReferences, listenerRouteNames } from './references.js';
export {
  type ClientNack,
  KIND_SHORT,
  KIND_TYPE_URL,
  KINDS,
  kindOfTypeUrl,
  type ProtoResources,
  type ResourceEntry,
  type ResourceKind,
  type ResourceState,
  type ResourceTypes,
  type XdsDecoders,
  type XdsReferences,
  type XdsSnapshot,
} from './types.js';
export {
  type KindStatus,
  XdsClient,
  type XdsClientOptions,
  type XdsClientStatus,
  type XdsNodeOptions,
} from './xds-client.js';
