// Kind names as kubectl accepts them (kind, plural or short name, any case), and which kinds the runtime owns.

import { KINDS, type KindInfo } from '../api/types/index.js';
import { TrellisError } from '../shared/errors.js';

/** Kinds the local runtime acts on itself; every other kind goes to the control plane's config store. */
export const RUNTIME_KINDS: ReadonlySet<string> = new Set([
  'Namespace',
  'ServiceAccount',
  'Service',
  'Deployment',
  'ConfigMap',
]);

/** Pods exist only while the mesh runs: `trellis get pods` lists them, but they cannot be applied. */
export const POD_KIND: KindInfo = {
  kind: 'Pod',
  group: '',
  versions: ['v1'],
  namespaced: true,
  plural: 'pods',
  shortNames: ['po'],
};

export function isRuntimeKind(kind: string): boolean {
  return RUNTIME_KINDS.has(kind);
}

function allKinds(): KindInfo[] {
  return [...Object.values(KINDS as Record<string, KindInfo>), POD_KIND];
}

/** `deploy`, `deployments`, `Deployment`, `deployment.apps`, `vs`, `virtualservices.networking.istio.io`. */
export function resolveKind(name: string): KindInfo {
  const lower = name.toLowerCase();
  const dot = lower.indexOf('.');
  const bare = dot < 0 ? lower : lower.slice(0, dot);
  const group = dot < 0 ? undefined : lower.slice(dot + 1);
  for (const k of allKinds()) {
    if (group !== undefined && k.group !== group) continue;
    if (k.kind.toLowerCase() === bare || k.plural === bare || k.shortNames.includes(bare)) return k;
  }
  const known = allKinds()
    .map((k) => k.plural)
    .sort()
    .join(', ');
  throw new TrellisError('UNKNOWN_KIND', `unknown resource type "${name}"; known: ${known}`);
}
