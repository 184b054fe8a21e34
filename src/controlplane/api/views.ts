// What the API needs from the rest of the control plane: small read/write views the lead adapts real parts to.

import type { TelemetryQueries } from '../../telemetry/store/queries.js';
import type { Scraper } from '../../telemetry/store/scraper.js';
import type { TraceStore } from '../../telemetry/store/traces.js';
import type { TimeSeriesStore } from '../../telemetry/store/tsdb.js';
import type { ApplyResult, ConfigItem, MeshStatus, ProxyStatus } from './types.js';

/** Called when the view's data changed; returns nothing. */
export type ChangeListener = () => void;

/**
 * The config store as the API sees it. `apply` and `delete` are atomic over the whole batch (YAML with `---`
 * separators, a JSON object, a JSON array or a Kubernetes `List`). A rejected batch throws a TrellisError;
 * when its `details.messages` is an array of BatchMessage, the API returns those messages with the 400.
 */
export interface ConfigView {
  list(filter?: { kind?: string; namespace?: string }): ConfigItem[];
  apply(yamlOrJson: string): Promise<ApplyResult>;
  delete(yamlOrJson: string): Promise<ApplyResult>;
  /** Optional push notification; without it the API polls list() while a dashboard is connected. */
  subscribe?(listener: ChangeListener): () => void;
}

/** Per-proxy xDS sync status (the xDS server's bookkeeping). */
export interface ProxyView {
  list(): ProxyStatus[];
  subscribe?(listener: ChangeListener): () => void;
}

/** The local runtime's view of the mesh (absent on Kubernetes). */
export interface RuntimeView {
  status(): MeshStatus;
  subscribe?(listener: ChangeListener): () => void;
}

/** The telemetry objects as they are: EmbeddedTelemetry fits, and so does a Prometheus-backed query set. */
export interface TelemetryView {
  queries: TelemetryQueries;
  traces: TraceStore;
  /** The embedded store and scraper, for status counts; absent with a Prometheus backend. */
  store?: TimeSeriesStore;
  scraper?: Scraper;
}
