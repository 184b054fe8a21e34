// Istio's HTTP metadata exchange: each sidecar tells its peer who it is in two headers, read once per peer.

import { fromBinary, fromJson, type JsonObject, toBinary, toJson } from '@bufbuild/protobuf';
import { StructSchema } from '@bufbuild/protobuf/wkt';
import { type WorkloadFacts, workloadFactsFromLabels } from '../../../../telemetry/metrics/istio-labels.js';

/** This proxy as its telemetry knows it (SidecarTelemetry.local). */
export interface LocalWorkload extends WorkloadFacts {
  nodeId: string;
  meshId?: string;
  /** Extra pod labels to advertise beyond the canonical ones. */
  labels?: Readonly<Record<string, string>>;
  /** Istio's APP_CONTAINERS (comma-separated container names), when known. */
  appContainers?: string;
}

/** The two header values this proxy sends: `x-envoy-peer-metadata-id` and `x-envoy-peer-metadata`. */
export interface PeerMetadataHeaders {
  readonly id: string;
  readonly value: string;
}

/** `sidecar~10.0.0.5~reviews-v2-abc.default~default.svc.cluster.local` → `reviews-v2-abc`. */
export function podNameFromNodeId(nodeId: string, namespace: string | undefined): string | undefined {
  const parts = nodeId.split('~');
  const podDotNs = parts[2];
  if (!podDotNs) return undefined;
  if (namespace && podDotNs.endsWith(`.${namespace}`)) return podDotNs.slice(0, -namespace.length - 1);
  const dot = podDotNs.lastIndexOf('.');
  return dot > 0 ? podDotNs.slice(0, dot) : podDotNs;
}

/**
 * The Struct istio/proxy's `convertWorkloadMetadataToStruct` writes: NAME, NAMESPACE, WORKLOAD_NAME,
 * CLUSTER_ID, LABELS (canonical name and revision, app, version, extra labels), OWNER; plus MESH_ID and
 * APP_CONTAINERS from the node metadata. Serialized with sorted keys (deterministic), base64.
 */
export function encodePeerMetadata(local: LocalWorkload): PeerMetadataHeaders {
  const labels: Record<string, string> = { ...local.labels };
  if (local.canonicalService) labels['service.istio.io/canonical-name'] = local.canonicalService;
  if (local.canonicalRevision) labels['service.istio.io/canonical-revision'] = local.canonicalRevision;
  if (local.app) labels.app = local.app;
  if (local.version) labels.version = local.version;
  const json: Record<string, unknown> = {};
  const pod = podNameFromNodeId(local.nodeId, local.namespace);
  if (pod) json.NAME = pod;
  if (local.namespace) json.NAMESPACE = local.namespace;
  if (local.workloadName) json.WORKLOAD_NAME = local.workloadName;
  if (local.cluster) json.CLUSTER_ID = local.cluster;
  if (local.meshId) json.MESH_ID = local.meshId;
  if (local.appContainers) json.APP_CONTAINERS = local.appContainers;
  json.LABELS = sortKeys(labels);
  if (local.namespace && local.workloadName) {
    json.OWNER = `kubernetes://apis/apps/v1/namespaces/${local.namespace}/deployments/${local.workloadName}`;
  }
  const struct = fromJson(StructSchema, sortKeys(json) as JsonObject);
  return { id: local.nodeId, value: Buffer.from(toBinary(StructSchema, struct)).toString('base64') };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

/** Reads a peer's `x-envoy-peer-metadata` value; undefined when it is not a base64 Struct. */
export function decodePeerMetadata(value: string): WorkloadFacts | undefined {
  let json: Record<string, unknown>;
  try {
    json = toJson(StructSchema, fromBinary(StructSchema, Buffer.from(value, 'base64'))) as Record<
      string,
      unknown
    >;
  } catch {
    return undefined;
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const labels: Record<string, string> = {};
  const rawLabels = json.LABELS;
  if (rawLabels && typeof rawLabels === 'object') {
    for (const [k, v] of Object.entries(rawLabels as Record<string, unknown>)) {
      if (typeof v === 'string') labels[k] = v;
    }
  }
  const workloadName = str(json.WORKLOAD_NAME) ?? str(json.NAME) ?? '';
  const namespace = str(json.NAMESPACE) ?? '';
  const facts = workloadFactsFromLabels({ labels, workloadName, namespace, cluster: str(json.CLUSTER_ID) });
  if (!workloadName) facts.workloadName = undefined;
  if (!namespace) facts.namespace = undefined;
  if (!str(json.CLUSTER_ID)) facts.cluster = undefined;
  return facts;
}

const MAX_PEERS = 1024;

/**
 * Decoded peers by header value: a sidecar talks to few peers, so each value is decoded once. The cache is
 * bounded; when full it starts over (istio/proxy trims a quarter, the effect is the same: a re-decode).
 */
export class PeerMetadataCache {
  readonly #byValue = new Map<string, WorkloadFacts | null>();

  get(value: string): WorkloadFacts | undefined {
    let facts = this.#byValue.get(value);
    if (facts === undefined) {
      facts = decodePeerMetadata(value) ?? null;
      if (this.#byValue.size >= MAX_PEERS) this.#byValue.clear();
      this.#byValue.set(value, facts);
    }
    return facts ?? undefined;
  }
}

/**
 * Istio's endpoint metadata fallback (`istio.workload`: `name;namespace;canonical service;revision;cluster`)
 * for a peer that sent no headers, as istio/proxy's `convertEndpointMetadata`.
 */
export function workloadFromEndpointMetadata(encoded: string | undefined): WorkloadFacts | undefined {
  if (!encoded) return undefined;
  const parts = encoded.split(';');
  if (parts.length < 5) return undefined;
  return {
    workloadName: parts[0] || undefined,
    namespace: parts[1] || undefined,
    canonicalService: parts[2] || undefined,
    canonicalRevision: parts[3] || undefined,
    cluster: parts[4] || undefined,
  };
}
