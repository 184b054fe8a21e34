// The registry's vocabulary: services, their ports and the workload endpoints behind them, from any source.

export type Protocol = 'HTTP' | 'HTTP2' | 'GRPC' | 'HTTPS' | 'TLS' | 'TCP' | 'UNKNOWN';

export interface ServicePort {
  /** Port name, e.g. `http`, `grpc-web`, `tcp-other`; may be empty for unnamed Kubernetes ports. */
  name: string;
  port: number;
  /** The workload port; equal to `port` when the source gives none. */
  targetPort: number;
  /** From the port's protocol, appProtocol or name prefix; UNKNOWN means sniff. */
  protocol: Protocol;
}

export type ServiceSource = 'kubernetes' | 'serviceentry';

export interface Service {
  /** Fully qualified host: `reviews.default.svc.cluster.local`, or a ServiceEntry host such as `httpbin.org`. */
  hostname: string;
  /** Short name (Kubernetes Service name; the host for ServiceEntries). */
  name: string;
  namespace: string;
  source: ServiceSource;
  /** Virtual IPs (Kubernetes clusterIP, ServiceEntry addresses). */
  addresses: string[];
  ports: ServicePort[];
  location: 'MESH_INTERNAL' | 'MESH_EXTERNAL';
  resolution: 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN' | 'NONE';
  /** Namespaces that may see this service (`*` = all, `.` resolved to the owner's namespace). */
  exportTo: string[];
  labels: Record<string, string>;
  /** Workloads this service selects (Kubernetes selector, ServiceEntry workloadSelector); in `namespace`. */
  selector?: Record<string, string>;
  /** For ServiceEntries: identities allowed to serve it (secure naming). */
  subjectAltNames?: string[];
  /** Where the service was defined, for messages (e.g. `ServiceEntry default/httpbin`). */
  origin: string;
}

/** One workload instance serving one port of one service. */
export interface Endpoint {
  /** IP address, or a DNS name for DNS-resolved ServiceEntries. */
  address: string;
  /** Workload port that receives the traffic of `servicePort`. */
  port: number;
  servicePort: number;
  labels: Record<string, string>;
  namespace: string;
  serviceAccount?: string;
  /** Deployment (or WorkloadEntry) name; Istio's `destination_workload`. */
  workloadName?: string;
  podName?: string;
  /** `region/zone/subzone`, any part may be empty. */
  locality?: string;
  weight?: number;
  healthy: boolean;
  /** `istio` when the workload has a sidecar that terminates mTLS (Istio's `security.istio.io/tlsMode` label). */
  tlsMode: 'istio' | 'disabled';
  network?: string;
}

/** A running workload (a pod): what the runtime or Kubernetes knows about it. */
export interface Workload {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ip: string;
  serviceAccount: string;
  workloadName: string;
  containerPorts: { name?: string; port: number; protocol?: string }[];
  ready: boolean;
  hasSidecar: boolean;
  locality?: string;
}

export interface RegistrySnapshot {
  readonly services: readonly Service[];
  /** Endpoints by service hostname. */
  readonly endpoints: ReadonlyMap<string, readonly Endpoint[]>;
  readonly workloads: readonly Workload[];
}

export interface RegistryChange {
  services: boolean;
  endpoints: boolean;
}

/** One source of services and endpoints (the local runtime, Kubernetes, ServiceEntries). */
export interface ServiceRegistry {
  snapshot(): RegistrySnapshot;
  onChange(listener: (change: RegistryChange) => void): () => void;
}

/**
 * Istio's protocol selection: appProtocol, then an Istio port `protocol` (ServiceEntry, Gateway), then the
 * port name's prefix (`http-web`). Do not pass a Kubernetes Service port's L4 `protocol: TCP` here.
 */
export function protocolFromPort(p: { name?: string; protocol?: string; appProtocol?: string }): Protocol {
  const explicit = (p.appProtocol ?? '').toLowerCase();
  const fromName = (p.name ?? '').toLowerCase().split('-')[0] ?? '';
  const istioProtocol = (p.protocol ?? '').toUpperCase();
  for (const candidate of [explicit, istioProtocol.toLowerCase(), fromName]) {
    switch (candidate) {
      case 'http':
        return 'HTTP';
      case 'http2':
      case 'h2c':
        return 'HTTP2';
      case 'grpc':
      case 'grpc-web':
        return 'GRPC';
      case 'https':
        return 'HTTPS';
      case 'tls':
        return 'TLS';
      case 'tcp':
      case 'mongo':
      case 'mysql':
      case 'redis':
        return 'TCP';
    }
  }
  return 'UNKNOWN';
}

export function isHttpProtocol(p: Protocol): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'GRPC';
}
