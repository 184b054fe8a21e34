// What the proxy knows about itself from its node: identity, workload facts for metrics, proxy type.

import type { JsonObject } from '@bufbuild/protobuf';
import { type WorkloadIdentity, workloadId } from '../../shared/spiffe.js';
import { type WorkloadFacts, workloadFactsFromLabels } from '../../telemetry/metrics/istio-labels.js';
import type { BootstrapNode } from './bootstrap.js';

function str(md: JsonObject, key: string): string | undefined {
  const v = md[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The trust domain: Istio's MESH_ID, `cluster.local` by default. */
export function trustDomainOf(node: BootstrapNode): string {
  return str(node.metadata, 'MESH_ID') ?? 'cluster.local';
}

export function workloadIdentityOf(node: BootstrapNode): WorkloadIdentity {
  return {
    trustDomain: trustDomainOf(node),
    namespace: str(node.metadata, 'NAMESPACE') ?? 'default',
    serviceAccount: str(node.metadata, 'SERVICE_ACCOUNT') ?? 'default',
  };
}

/** `router~…` nodes are gateways; everything else is a sidecar. */
export function proxyTypeOf(node: BootstrapNode): 'sidecar' | 'gateway' {
  return node.id.startsWith('router~') ? 'gateway' : 'sidecar';
}

export type LocalFacts = WorkloadFacts & { principal?: string; nodeId: string; meshId: string };

/** This proxy's own workload as metric labels see it; `principal` only when the proxy has an identity. */
/** The pod's labels (node metadata LABELS), string values only. */
export function nodeLabels(node: BootstrapNode): Record<string, string> {
  const labels: Record<string, string> = {};
  const raw = node.metadata.LABELS;
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') labels[k] = v;
  }
  return labels;
}

export function localFacts(node: BootstrapNode, withIdentity: boolean): LocalFacts {
  const md = node.metadata;
  const labels = nodeLabels(node);
  const facts = workloadFactsFromLabels({
    labels,
    workloadName: str(md, 'WORKLOAD_NAME') ?? str(md, 'NAME') ?? 'unknown',
    namespace: str(md, 'NAMESPACE') ?? 'default',
    cluster: str(md, 'CLUSTER_ID') ?? 'Kubernetes',
  });
  const out: LocalFacts = { ...facts, nodeId: node.id, meshId: trustDomainOf(node) };
  if (withIdentity) out.principal = workloadId(workloadIdentityOf(node));
  return out;
}

/** The pod IPs (INSTANCE_IPS), first one first. */
export function instanceIps(node: BootstrapNode): string[] {
  return (str(node.metadata, 'INSTANCE_IPS') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
