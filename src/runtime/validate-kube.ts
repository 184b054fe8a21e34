// Checks the Kubernetes resources the runtime runs, so a broken Deployment is refused at apply with file:line:col.

import type { Deployment, KubeService } from '../api/types/index.js';
import { KINDS } from '../api/types/index.js';
import type { LoadedManifest, ManifestMessage } from './manifests.js';

function describe(m: LoadedManifest): string {
  const r = m.resource;
  return `${r.kind} ${r.kind === 'Namespace' ? '' : `${r.metadata.namespace ?? 'default'}/`}${r.metadata.name}`;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function isPort(n: unknown): boolean {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

function deploymentProblems(d: Deployment): string[] {
  const out: string[] = [];
  const spec = d.spec as Partial<Deployment['spec']> | undefined;
  const replicas = spec?.replicas;
  if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0))
    out.push(`spec.replicas: ${JSON.stringify(replicas)} is not a whole number >= 0`);
  const containers = spec?.template?.spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    out.push('spec.template.spec.containers: at least one container is required');
    return out;
  }
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const at = `spec.template.spec.containers[${i}]`;
    if (typeof c?.name !== 'string' || !DNS_LABEL.test(c.name))
      out.push(`${at}.name: ${JSON.stringify(c?.name)} is not a DNS label`);
    else if (names.has(c.name)) out.push(`${at}.name: duplicate container name "${c.name}"`);
    else names.add(c.name);
    if (!c?.command?.length && !c?.args?.length)
      out.push(`${at}: no command; the local runtime runs commands, not images`);
    for (const [j, p] of (c?.ports ?? []).entries())
      if (!isPort(p?.containerPort))
        out.push(`${at}.ports[${j}].containerPort: ${JSON.stringify(p?.containerPort)} is not a port`);
  });
  const match = spec?.selector?.matchLabels ?? {};
  const labels = spec?.template?.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(match)) {
    if (labels[k] !== v)
      out.push(`spec.selector.matchLabels: ${k}=${v} does not match the template's labels`);
  }
  return out;
}

function serviceProblems(s: KubeService): string[] {
  const out: string[] = [];
  for (const [i, p] of (s.spec?.ports ?? []).entries()) {
    if (!isPort(p?.port)) out.push(`spec.ports[${i}].port: ${JSON.stringify(p?.port)} is not a port`);
  }
  return out;
}

/** Errors for the runtime's kinds; other kinds are the control plane's to validate. */
export function validateRuntimeManifests(manifests: readonly LoadedManifest[]): ManifestMessage[] {
  const out: ManifestMessage[] = [];
  for (const m of manifests) {
    const r = m.resource;
    const info = (KINDS as Record<string, { group: string; versions: readonly string[] }>)[r.kind];
    if (info) {
      const [group, version] = r.apiVersion.includes('/') ? r.apiVersion.split('/') : ['', r.apiVersion];
      if (group !== info.group || !info.versions.includes(version!)) {
        out.push({
          severity: 'error',
          message: `${describe(m)}: apiVersion ${r.apiVersion} is not served (use ${info.group ? `${info.group}/` : ''}${info.versions[0]})`,
          position: m.position,
        });
      }
    }
    if (!DNS_LABEL.test(r.metadata.name) && r.kind !== 'ConfigMap')
      out.push({
        severity: 'error',
        message: `${describe(m)}: metadata.name must be a DNS label`,
        position: m.position,
      });
    const problems =
      r.kind === 'Deployment'
        ? deploymentProblems(r as Deployment)
        : r.kind === 'Service'
          ? serviceProblems(r as KubeService)
          : [];
    for (const p of problems)
      out.push({ severity: 'error', message: `${describe(m)}: ${p}`, position: m.position });
  }
  return out;
}
