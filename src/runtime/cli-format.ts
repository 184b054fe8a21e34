// Text the runtime's CLI commands print: kubectl-style tables, apply results and manifest reading for -f.

import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { KINDS, type KindInfo } from '../api/types/index.js';
import type { Resource, ResourceRef } from '../api/types/meta.js';
import type { ConfigChangeMessage } from './control-plane.js';
import { loadManifests, loadManifestText, type ManifestLoad } from './manifests.js';
import type { MeshStatus } from './mesh.js';
import type { PodStatus } from './pod.js';

/** `-f` values: files, folders, or `-` for stdin (whose relative workingDirs resolve against the cwd). */
export function loadFileArgs(
  files: readonly string[],
  stdin: () => string = () => readFileSync(0, 'utf8'),
): ManifestLoad {
  const out: ManifestLoad = { manifests: [], messages: [], files: [] };
  for (const f of files) {
    const one = f === '-' ? loadManifestText(stdin(), '<stdin>', process.cwd()) : loadManifests(f);
    out.manifests.push(...one.manifests);
    out.messages.push(...one.messages);
    out.files.push(...one.files);
  }
  return out;
}

/** `deployment.apps/details-v1`, `service/details`, `virtualservice.networking.istio.io/reviews`. */
export function refName(ref: ResourceRef): string {
  const info = (KINDS as Record<string, KindInfo>)[ref.kind];
  const kind = ref.kind.toLowerCase();
  return `${info?.group ? `${kind}.${info.group}` : kind}/${ref.name}`;
}

/** `file:line:col: [warning: ]Kind ns/name: field.path: message`, leaving out what the message already says. */
export function formatChangeMessage(m: ConfigChangeMessage): string {
  const parts: string[] = [];
  const where = m.position ? `${m.position.file}:${m.position.line}:${m.position.col}` : '';
  if (where && !m.message.startsWith(m.position!.file)) parts.push(where);
  if (m.severity !== 'error' && !m.message.includes(`${m.severity}: `)) parts.push(m.severity);
  if (m.resource) {
    const ref = `${m.resource.kind} ${m.resource.namespace ? `${m.resource.namespace}/` : ''}${m.resource.name}`;
    if (!m.message.includes(m.resource.name)) parts.push(ref);
  }
  if (m.path && !m.message.includes(m.path)) parts.push(m.path);
  parts.push(m.message);
  return parts.join(': ');
}

export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3)))
        .join('')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

export function age(since: string | undefined, now = Date.now()): string {
  if (!since) return '-';
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function podReady(p: PodStatus): string {
  const apps = p.containers;
  return `${apps.filter((c) => c.ready).length}/${apps.length}`;
}

function podState(p: PodStatus): string {
  if (p.phase === 'Succeeded') return 'Completed';
  const crash = p.containers.find((c) => c.state === 'backoff');
  if (crash) return 'CrashLoopBackOff';
  return p.phase;
}

function labelText(labels: Record<string, string>): string {
  return (
    Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',') || '-'
  );
}

export function podsTable(pods: readonly PodStatus[], wide = false): string {
  const head = [
    'NAMESPACE',
    'NAME',
    'READY',
    'STATUS',
    'RESTARTS',
    'IP',
    ...(wide ? ['LABELS', 'ADMIN', 'STATS', 'MESSAGE'] : []),
  ];
  return table([
    head,
    ...pods.map((p) => [
      p.namespace,
      p.name,
      podReady(p),
      podState(p),
      String(p.restarts),
      p.ip,
      ...(wide
        ? [labelText(p.labels), p.sidecar?.admin ?? '-', p.sidecar?.stats ?? '-', p.message ?? '']
        : []),
    ]),
  ]);
}

export function statusText(s: MeshStatus): string {
  const lines = [
    `mesh:       ${s.mesh} (${s.phase}, pid ${s.pid}, ${s.mode} mode)`,
    `state:      ${s.stateDir}`,
    `xDS:        ${s.addresses.xdsTls ?? '-'} (mTLS), ${s.addresses.xds ?? '-'} (plaintext)`,
    `API:        ${s.apiUrl}`,
    `dashboard:  ${s.dashboardUrl}`,
    `ingress:    ${
      s.ingressUrl
        ? `${s.ingressUrl}/ (gateway ${s.ingress?.ready ? 'ready' : 'not ready'}; ports ${Object.entries(
            s.ingress?.portMap ?? {},
          )
            .map(([k, v]) => `${k}→${v}`)
            .join(', ')})`
        : 'none (no Gateway selects istio: ingressgateway)'
    }`,
    ...(s.ingressProblem ? [`            ${s.ingressProblem}`] : []),
    `network:    ${Object.entries(s.network)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    '',
  ];
  return `${lines.join('\n')}${s.pods.length > 0 ? podsTable(s.pods, true) : 'no pods\n'}`;
}

function servicePorts(r: Resource): string {
  const ports = (r.spec as { ports?: { port: number; protocol?: string }[] }).ports ?? [];
  return ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') || '<none>';
}

/** kubectl's default columns for the kinds the runtime knows, NAME and AGE for the others. */
export function resourcesTable(kind: string, items: readonly Resource[], pods: readonly PodStatus[]): string {
  if (kind === 'Deployment') {
    return table([
      ['NAMESPACE', 'NAME', 'READY', 'AGE'],
      ...items.map((r) => {
        const mine = pods.filter(
          (p) => p.deployment === r.metadata.name && p.namespace === r.metadata.namespace,
        );
        const want = (r.spec as { replicas?: number }).replicas ?? 1;
        return [
          r.metadata.namespace ?? 'default',
          r.metadata.name,
          `${mine.filter((p) => p.ready).length}/${want}`,
          age(r.metadata.creationTimestamp),
        ];
      }),
    ]);
  }
  if (kind === 'Service') {
    return table([
      ['NAMESPACE', 'NAME', 'CLUSTER-IP', 'PORTS', 'AGE'],
      ...items.map((r) => [
        r.metadata.namespace ?? 'default',
        r.metadata.name,
        (r.spec as { clusterIP?: string }).clusterIP ?? '-',
        servicePorts(r),
        age(r.metadata.creationTimestamp),
      ]),
    ]);
  }
  if (kind === 'Namespace')
    return table([
      ['NAME', 'AGE'],
      ...items.map((r) => [r.metadata.name, age(r.metadata.creationTimestamp)]),
    ]);
  return table([
    ['NAMESPACE', 'NAME', 'AGE'],
    ...items.map((r) => [
      r.metadata.namespace ?? 'default',
      r.metadata.name,
      age(r.metadata.creationTimestamp),
    ]),
  ]);
}

/** A ConfigMap's data goes back beside metadata, as it was written. */
function external(r: Resource): Record<string, unknown> {
  if (r.kind === 'ConfigMap') {
    const { spec, ...rest } = r;
    return { ...rest, data: (spec as { data?: unknown }).data ?? {} };
  }
  return r as unknown as Record<string, unknown>;
}

export function resourcesYaml(items: readonly Resource[]): string {
  return items.map((r) => stringify(external(r))).join('---\n');
}

export function resourcesJson(items: readonly Resource[], single: boolean): string {
  const out =
    single && items.length === 1
      ? external(items[0]!)
      : { apiVersion: 'v1', kind: 'List', items: items.map(external) };
  return `${JSON.stringify(out, null, 2)}\n`;
}
