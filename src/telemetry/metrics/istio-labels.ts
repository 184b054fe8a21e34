// Istio's standard metric labels: names in emitted order and the rules istio_stats.cc uses to fill them.

/** The peer/workload labels every standard metric carries, in istio/proxy's emitted order. */
export const ISTIO_PEER_LABELS = [
  'reporter',
  'source_workload',
  'source_canonical_service',
  'source_canonical_revision',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_service_name',
  'destination_service_namespace',
  'destination_cluster',
] as const;

/** HTTP/gRPC request metrics (istio_requests_total and the three distributions). */
export const ISTIO_HTTP_LABELS = [
  ...ISTIO_PEER_LABELS,
  'request_protocol',
  'response_code',
  'grpc_response_status',
  'response_flags',
  'connection_security_policy',
] as const;

/** TCP metrics drop response_code and grpc_response_status. */
export const ISTIO_TCP_LABELS = [
  ...ISTIO_PEER_LABELS,
  'request_protocol',
  'response_flags',
  'connection_security_policy',
] as const;

/** gRPC message counters are reported before protocol, code and flags are known: peer labels only. */
export const ISTIO_GRPC_MESSAGE_LABELS = ISTIO_PEER_LABELS;

export type IstioReporter = 'source' | 'destination' | 'waypoint';

/** What a proxy knows about one workload: its own (from node metadata) or its peer's (metadata exchange). */
export interface WorkloadFacts {
  workloadName?: string;
  namespace?: string;
  app?: string;
  version?: string;
  canonicalService?: string;
  canonicalRevision?: string;
  /** Istio's cluster id (`Kubernetes` by default). */
  cluster?: string;
}

export interface IstioPeerFacts {
  /** `source` on the client sidecar (outbound), `destination` on the server sidecar (inbound). */
  reporter: IstioReporter;
  /** This proxy's own workload. */
  local: WorkloadFacts;
  /** The other side, when known (metadata exchange, or endpoint metadata on the client). */
  peer?: WorkloadFacts;
  /** SPIFFE URI of the peer certificate, when the connection used mTLS. */
  peerPrincipal?: string;
  /** SPIFFE URI of this proxy's own certificate on that connection. */
  localPrincipal?: string;
  /** The destination service, from the cluster's `istio.services[0]` metadata or the Host header. */
  service?: { host?: string; name?: string };
}

const UNKNOWN = 'unknown';
const LATEST = 'latest';

function or(v: string | undefined, fallback: string): string {
  return v ? v : fallback;
}

/** `cluster.local/ns/<ns>/sa/<sa>` or `spiffe://...`: the namespace segment, as istio_stats.cc getNamespace(). */
export function namespaceFromPrincipal(principal: string | undefined): string | undefined {
  if (!principal) return undefined;
  const i = principal.indexOf('/ns/');
  if (i < 0) return undefined;
  const rest = principal.slice(i + 4);
  const j = rest.indexOf('/');
  return j < 0 ? rest : rest.slice(0, j);
}

/**
 * Workload facts from pod labels the way Istio's injector defaults them: canonical service from
 * `service.istio.io/canonical-name`, `app.kubernetes.io/name`, `app`, then the workload name; revision from
 * `service.istio.io/canonical-revision`, `app.kubernetes.io/version`, `version`, then `latest`.
 */
export function workloadFactsFromLabels(opts: {
  labels: Readonly<Record<string, string>>;
  workloadName: string;
  namespace: string;
  cluster?: string;
}): WorkloadFacts {
  const l = opts.labels;
  return {
    workloadName: opts.workloadName,
    namespace: opts.namespace,
    app: l.app ?? l['app.kubernetes.io/name'],
    version: l.version ?? l['app.kubernetes.io/version'],
    canonicalService:
      l['service.istio.io/canonical-name'] ?? l['app.kubernetes.io/name'] ?? l.app ?? opts.workloadName,
    canonicalRevision:
      l['service.istio.io/canonical-revision'] ?? l['app.kubernetes.io/version'] ?? l.version ?? LATEST,
    cluster: opts.cluster ?? 'Kubernetes',
  };
}

/**
 * The 20 peer label values in ISTIO_PEER_LABELS order, following istio_stats.cc populatePeerInfo():
 * unknown peers give `unknown` (canonical revision `latest`), the peer namespace comes from its SAN first,
 * and the client reports the peer's namespace as destination_service_namespace.
 */
export function istioPeerLabelValues(f: IstioPeerFacts): string[] {
  const local = f.local;
  const peer = f.peer;
  const peerNs = namespaceFromPrincipal(f.peerPrincipal) ?? peer?.namespace;
  if (f.reporter === 'source') {
    return [
      'source',
      or(local.workloadName, UNKNOWN),
      or(local.canonicalService, UNKNOWN),
      or(local.canonicalRevision, LATEST),
      or(local.namespace, UNKNOWN),
      or(f.localPrincipal, UNKNOWN),
      or(local.app, UNKNOWN),
      or(local.version, UNKNOWN),
      or(local.cluster, UNKNOWN),
      or(peer?.workloadName, UNKNOWN),
      or(peerNs, UNKNOWN),
      or(f.peerPrincipal, UNKNOWN),
      or(peer?.app, UNKNOWN),
      or(peer?.version, UNKNOWN),
      or(f.service?.host, UNKNOWN),
      or(peer?.canonicalService, UNKNOWN),
      or(peer?.canonicalRevision, LATEST),
      or(f.service?.name, UNKNOWN),
      or(peerNs, UNKNOWN),
      or(peer?.cluster, UNKNOWN),
    ];
  }
  const canonical = or(local.canonicalService, UNKNOWN);
  return [
    f.reporter,
    or(peer?.workloadName, UNKNOWN),
    or(peer?.canonicalService, UNKNOWN),
    or(peer?.canonicalRevision, LATEST),
    or(peerNs, UNKNOWN),
    or(f.peerPrincipal, UNKNOWN),
    or(peer?.app, UNKNOWN),
    or(peer?.version, UNKNOWN),
    or(peer?.cluster, UNKNOWN),
    or(local.workloadName, UNKNOWN),
    or(local.namespace, UNKNOWN),
    or(f.localPrincipal, UNKNOWN),
    or(local.app, UNKNOWN),
    or(local.version, UNKNOWN),
    or(f.service?.host, canonical),
    canonical,
    or(local.canonicalRevision, LATEST),
    or(f.service?.name, canonical),
    or(local.namespace, UNKNOWN),
    or(local.cluster, UNKNOWN),
  ];
}

/**
 * connection_security_policy: the source reporter always says `unknown`; the destination says `mutual_tls`
 * when both peer and local SANs are present, else `none`.
 */
export function connectionSecurityPolicy(f: IstioPeerFacts): 'mutual_tls' | 'none' | 'unknown' {
  if (f.reporter === 'source') return 'unknown';
  return f.peerPrincipal && f.localPrincipal ? 'mutual_tls' : 'none';
}

export interface IstioRequestOutcome {
  protocol: 'http' | 'grpc';
  responseCode: number;
  grpcStatus?: number;
  /** Envoy response flags, `-` when none. */
  responseFlags?: string;
}

/**
 * The complete label set of istio_requests_total (and the three distributions) as name -> value, in emitted
 * order. The recorders build the same values positionally; this form is for tests, debugging and views.
 */
export function istioHttpLabels(facts: IstioPeerFacts, outcome: IstioRequestOutcome): Record<string, string> {
  const values = [
    ...istioPeerLabelValues(facts),
    outcome.protocol,
    String(outcome.responseCode),
    outcome.protocol === 'grpc' && outcome.grpcStatus !== undefined ? String(outcome.grpcStatus) : '',
    outcome.responseFlags || '-',
    connectionSecurityPolicy(facts),
  ];
  const out: Record<string, string> = {};
  ISTIO_HTTP_LABELS.forEach((name, i) => {
    out[name] = values[i]!;
  });
  return out;
}
