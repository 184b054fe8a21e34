// The control plane's xDS server: snapshot cache, ADS streams (SotW + delta), debounce, sync status, metrics.

export {
  AdsServer,
  type AdsServerOptions,
  type AdsServerStats,
  adsServerChannelOptions,
  type ListenOptions,
} from './ads-server.js';
export type { ServerHooks, StreamTransport, XdsEvent } from './ads-stream.js';
export { type CacheEntry, type SetSnapshotOptions, SnapshotCache } from './cache.js';
export { type DebounceBatch, Debouncer, type DebouncerOptions } from './debounce.js';
export {
  type HistogramValue,
  type Labels,
  MemoryMetrics,
  type MetricSpec,
  type MetricsSink,
  metricType,
  noopMetrics,
  XDS_METRICS,
} from './metrics.js';
export type { NodeInfo, PeerInfo, ProxyInfo } from './proxy-info.js';
export { EncodedResource, encodeResource, resourceNameOf } from './resource.js';
export { type ResourceDiff, ResourceSet, Snapshot } from './snapshot.js';
export { type ProxySyncStatus, type SyncState, syncState, type TypeSyncStatus } from './sync-status.js';
export type { NackRecord, SentRecord } from './type-state.js';
