// The HTTP API's JSON shapes: dependency-free, so the dashboard's own build imports the same definitions.
// Every time is epoch milliseconds; every rate is per second; every latency is milliseconds.

// ---- Config -------------------------------------------------------------------------------------------

export type MessageLevel = 'Error' | 'Warning' | 'Info';

/** A validation or analysis message on a resource (codes follow `istioctl analyze`: IST0101, ...). */
export interface ConfigMessage {
  level: MessageLevel;
  code: string;
  message: string;
}

export interface ResourceId {
  kind: string;
  namespace: string;
  name: string;
}

/** One stored resource with what the control plane knows about it. */
export interface ConfigItem extends ResourceId {
  apiVersion: string;
  resourceVersion: string;
  /** Where it was loaded from, when it came from a file. */
  source?: { file: string; line: number };
  labels?: Record<string, string>;
  spec: unknown;
  messages: ConfigMessage[];
  /** How many proxies this resource reaches, and how many of those acknowledged / rejected the config. */
  appliedTo: { total: number; acked: number; nacked: number };
}

export interface AppliedResource extends ResourceId {
  action: 'created' | 'configured' | 'unchanged' | 'deleted';
  resourceVersion?: string;
}

/** A message tied to one resource of a batch (and the position of that resource, when known). */
export interface BatchMessage extends ConfigMessage {
  resource?: ResourceId;
  source?: { file: string; line: number };
}

export interface ApplyResult {
  resources: AppliedResource[];
  /** Warnings and info: an accepted batch may still carry them. */
  messages: BatchMessage[];
}

export interface ConfigListResponse {
  items: ConfigItem[];
  counts: { resources: number; errors: number; warnings: number; info: number };
}

// ---- Proxies ------------------------------------------------------------------------------------------

/** Istio's `proxy-status` words: SYNCED (acked the latest), STALE (sent, not acked), NOT SENT. */
export type SyncState = 'SYNCED' | 'STALE' | 'NOT SENT';

export interface XdsTypeStatus {
  /** Version of the newest response sent. */
  sent?: string;
  /** Version the proxy last acknowledged. */
  acked?: string;
  lastNack?: { version: string; message: string; at: number };
  state: SyncState;
}

export interface ProxyStatus {
  /** The xDS node id (`sidecar~10.0.0.5~reviews-v1-abc.default~default.svc.cluster.local`). */
  id: string;
  pod: string;
  namespace: string;
  workload: string;
  /** Pod labels from the node metadata, when the proxy sent them. */
  labels?: Record<string, string>;
  version?: string;
  connectedSince: number;
  /** Keyed by the short type name: `CDS`, `LDS`, `EDS`, `RDS`, ... */
  xds: Record<string, XdsTypeStatus>;
}

export interface ProxyListResponse {
  proxies: ProxyStatus[];
  counts: { total: number; synced: number; stale: number; nacked: number };
}

// ---- Mesh runtime -------------------------------------------------------------------------------------

export interface ContainerStatus {
  name: string;
  /** `proxy` for the sidecar, `app` for the workload's own process. */
  role: 'app' | 'proxy' | 'other';
  ready: boolean;
  pid?: number;
  restarts?: number;
  /** `running`, `waiting`, `exited (1)`, ... */
  state?: string;
}

export interface PodStatus {
  name: string;
  namespace: string;
  workload?: string;
  ready: boolean;
  ips: string[];
  phase?: string;
  containers: ContainerStatus[];
}

export interface MeshStatus {
  mesh: string;
  /** Named endpoints: `xds`, `api`, `ingress`, ... to `host:port` or URLs. */
  addresses: Record<string, string>;
  ingressUrl?: string;
  pods: PodStatus[];
}

export interface StatusResponse {
  /** Absent when the control plane runs without the local runtime (e.g. on Kubernetes). */
  mesh?: MeshStatus;
  controlPlane: { version: string; startedAt: number; now: number };
  config: ConfigListResponse['counts'];
  proxies: ProxyListResponse['counts'];
  telemetry: {
    series?: number;
    traces: number;
    spans: number;
    scrapeTargets?: { total: number; up: number };
  };
}

// ---- Telemetry ----------------------------------------------------------------------------------------

export interface GoldenSignals {
  requestRate: number;
  rate4xx: number;
  rate5xx: number;
  /** (4xx + 5xx) / all; 0 without traffic. */
  errorRate: number;
  p50?: number;
  p90?: number;
  p99?: number;
  /** Which side's telemetry the numbers come from. */
  reporter: 'destination' | 'source';
}

export interface ServiceSignals extends GoldenSignals {
  service: string;
  name: string;
  namespace: string;
}

export interface WorkloadSignals extends GoldenSignals {
  workload: string;
  namespace: string;
  app: string;
  version: string;
}

export interface EdgeSignals extends GoldenSignals {
  source: { workload: string; namespace: string; app: string; version: string };
  destination: { service: string; workload: string; namespace: string; app: string; version: string };
}

export interface ServicesResponse {
  windowMs: number;
  atMs: number;
  services: ServiceSignals[];
}

export interface WorkloadsResponse {
  windowMs: number;
  atMs: number;
  workloads: WorkloadSignals[];
}

export interface EdgesResponse {
  windowMs: number;
  atMs: number;
  edges: EdgeSignals[];
}

export interface SeriesResponse {
  /** As requested: `service:<host>`, `workload:<ns>/<name>` or `edge:<ns>/<workload>><host>`. */
  scope: string;
  windowMs: number;
  startMs: number;
  endMs: number;
  stepMs: number;
  timestamps: number[];
  requestRate: number[];
  rate4xx: number[];
  rate5xx: number[];
  errorRate: number[];
  p50: (number | null)[];
  p90: (number | null)[];
  p99: (number | null)[];
  reporter: 'destination' | 'source';
}

export interface ProcessRow {
  pod: string;
  namespace: string;
  /** The container (`container` label, else `role`), e.g. `istio-proxy` / `app`. */
  container: string;
  pid: number;
  labels: Record<string, string>;
  /** CPU cores averaged over the window ending at atMs. */
  cpuCores: number;
  rssBytes: number;
  /** Aligned with the response's timestamps; null where no sample was found. */
  cpuSeries: (number | null)[];
  rssSeries: (number | null)[];
}

export interface ProcessesResponse {
  atMs: number;
  windowMs: number;
  startMs: number;
  endMs: number;
  stepMs: number;
  timestamps: number[];
  processes: ProcessRow[];
}

// ---- Graph --------------------------------------------------------------------------------------------

/** Kiali's default thresholds: 5xx > 0 % degraded, > 10 % failing; 4xx >= 10 % degraded, > 20 % failing. */
export type Health = 'healthy' | 'degraded' | 'failing' | 'idle';

export interface GraphNodeView {
  id: string;
  /** `app` nodes appear in the service graph for callers that serve no observed service. */
  kind: 'workload' | 'service' | 'app' | 'unknown';
  name: string;
  namespace: string;
  app?: string;
  version?: string;
  /** Inbound traffic (sum over incoming edges). */
  requestRate: number;
  errorRate: number;
  health: Health;
  /** Service graph: the workloads folded into this node. */
  workloads?: string[];
}

export interface GraphEdgeView {
  id: string;
  source: string;
  target: string;
  protocol: string;
  requestRate: number;
  rate4xx: number;
  rate5xx: number;
  errorRate: number;
  p99?: number;
  mtls: boolean;
  mtlsPercent?: number;
  tcpBytesPerSecond?: number;
  reporter: 'destination' | 'source';
  health: Health;
}

export interface GraphResponse {
  by: 'service' | 'workload';
  windowMs: number;
  atMs: number;
  nodes: GraphNodeView[];
  edges: GraphEdgeView[];
}

// ---- Traces -------------------------------------------------------------------------------------------

export interface SpanView {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: 'SERVER' | 'CLIENT';
  startMs: number;
  durationMs: number;
  serviceName: string;
  tags: Record<string, string>;
  error: boolean;
}

export interface TraceSummary {
  traceId: string;
  rootService: string;
  rootOperation: string;
  startMs: number;
  durationMs: number;
  spanCount: number;
  errorCount: number;
  services: string[];
}

export interface TraceSearchResponse {
  atMs: number;
  traces: TraceSummary[];
  /** Every service seen in stored traces, for search forms. */
  services: string[];
}

export interface TraceResponse {
  summary: TraceSummary;
  spans: SpanView[];
}

export interface RequestEntry {
  timeMs: number;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  flags: string;
  source: string;
  destination: string;
  traceId: string;
}

export interface RequestsResponse {
  atMs: number;
  requests: RequestEntry[];
}

// ---- Events and errors --------------------------------------------------------------------------------

/** `GET /api/v1/events` event names; `hello` is sent once per connection. */
export type EventTopic = 'telemetry' | 'config' | 'proxies' | 'status';

export interface EventData {
  topic: EventTopic | 'hello';
  atMs: number;
}

export interface ErrorBody {
  error: { code: string; message: string; messages?: BatchMessage[] };
}
