// What a Deployment asks for, pod by pod: names, labels, identity, locality, containers and policies.

import { createHash } from 'node:crypto';
import type { Container, Deployment } from '../api/types/index.js';
import type { RestartPolicy } from './supervised-process.js';

export interface PodPlan {
  /** `<deployment>-<hash>-<n>`; the hash changes with the pod template, so a changed template replaces pods. */
  name: string;
  namespace: string;
  /** Unique within the mesh: `<namespace>.<name>`. */
  key: string;
  deployment: string;
  templateHash: string;
  replica: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceAccount: string;
  /** `region/zone/subzone`, or undefined. */
  locality: string | undefined;
  containers: Container[];
  restartPolicy: RestartPolicy;
  hasSidecar: boolean;
  terminationGraceMs: number;
  baseDir: string;
}

const LOCALITY_LABEL = 'istio-locality';
const REGION = 'topology.kubernetes.io/region';
const ZONE = 'topology.kubernetes.io/zone';
const SUBZONE = 'topology.istio.io/subzone';

/** Istio's pod locality: the `istio-locality` label (`region.zone.subzone`), else the topology labels. */
export function podLocality(labels: Readonly<Record<string, string>>): string | undefined {
  const l = labels[LOCALITY_LABEL];
  if (l) {
    const [region = '', zone = '', subzone = ''] = l.split('.');
    return `${region}/${zone}/${subzone}`;
  }
  if (labels[REGION] || labels[ZONE] || labels[SUBZONE]) {
    return `${labels[REGION] ?? ''}/${labels[ZONE] ?? ''}/${labels[SUBZONE] ?? ''}`;
  }
  return undefined;
}

/** Kubernetes' default for pods is 30 s; locally a stuck app should not hold `down` that long. */
const DEFAULT_GRACE_MS = 10_000;

export function templateHash(d: Deployment, baseDir: string): string {
  return createHash('sha1')
    .update(JSON.stringify({ t: d.spec.template, baseDir }))
    .digest('hex')
    .slice(0, 6);
}

export function restartPolicyOf(d: Deployment): RestartPolicy {
  const p = (d.spec.template.spec as { restartPolicy?: string }).restartPolicy;
  return p === 'Never' || p === 'OnFailure' ? p : 'Always';
}

/** One plan per replica of the Deployment. */
export function podPlans(d: Deployment, baseDir: string): PodPlan[] {
  const namespace = d.metadata.namespace ?? 'default';
  const t = d.spec.template;
  const labels = { ...(t.metadata?.labels ?? {}) };
  const annotations = { ...(t.metadata?.annotations ?? {}) };
  const hash = templateHash(d, baseDir);
  const replicas = d.spec.replicas ?? 1;
  const grace = t.spec.terminationGracePeriodSeconds;
  const out: PodPlan[] = [];
  for (let n = 0; n < replicas; n++) {
    const name = `${d.metadata.name}-${hash}-${n}`;
    out.push({
      name,
      namespace,
      key: `${namespace}.${name}`,
      deployment: d.metadata.name,
      templateHash: hash,
      replica: n,
      labels,
      annotations,
      serviceAccount: t.spec.serviceAccountName ?? 'default',
      locality: podLocality(labels),
      containers: t.spec.containers,
      restartPolicy: restartPolicyOf(d),
      hasSidecar: annotations['sidecar.istio.io/inject'] !== 'false',
      terminationGraceMs: grace === undefined ? DEFAULT_GRACE_MS : grace * 1000,
      baseDir,
    });
  }
  return out;
}

export function containerPorts(p: PodPlan): { containerPort: number; name?: string }[] {
  return p.containers.flatMap((c) =>
    (c.ports ?? []).map((port) =>
      port.name
        ? { containerPort: port.containerPort, name: port.name }
        : { containerPort: port.containerPort },
    ),
  );
}
