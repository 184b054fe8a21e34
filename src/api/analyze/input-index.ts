// An index of the analyzed input: resources by kind, services by host, workloads by labels, with their positions.

import { parse } from 'yaml';
import type { LoadedResource } from '../load/loaded-resource.js';
import { dropNullFields } from '../load/nulls.js';
import type { ConfigMessage, FieldPath } from '../messages.js';
import { isPlainObject } from '../schema/schema.js';
import type { Deployment, DestinationRule, Gateway, KubeService, ServiceEntry } from '../types/index.js';
import type { MeshConfig } from '../types/mesh-config.js';
import { DEFAULT_NAMESPACE, type Resource, ROOT_NAMESPACE, refKey, refOf } from '../types/meta.js';
import { hostCovers } from '../validate/names.js';
import { CODES } from './codes.js';

export const DOMAIN_SUFFIX = 'svc.cluster.local';

/** Istio's short-name resolution: a name without dots is a Kubernetes service in the resource's namespace. */
export function resolveHost(host: string, namespace: string): string {
  return host.includes('.') || host.includes('*') ? host : `${host}.${namespace}.${DOMAIN_SUFFIX}`;
}

export interface Workload {
  deployment: LoadedResource;
  namespace: string;
  labels: Record<string, string>;
  containerPorts: number[];
}

export interface KnownService {
  host: string;
  namespace: string;
  /** The Kubernetes Service, when the host is one. */
  service?: LoadedResource;
  entry?: LoadedResource;
}

export interface AnalysisIndex {
  resources: readonly LoadedResource[];
  ofKind<R extends Resource>(kind: R['kind']): (LoadedResource & { resource: R })[];
  /**
   * Whether a reference to `fqdn` can be checked: cluster hosts (`*.svc.cluster.local`) when the input has
   * Kubernetes Services, other hosts when it has ServiceEntries. Otherwise a missing host proves nothing.
   */
  canCheckHost(fqdn: string): boolean;
  hasServices: boolean;
  findService(fqdn: string): KnownService | undefined;
  workloads: readonly Workload[];
  /** Workloads in `namespace` (all namespaces when undefined) whose labels include `selector`. */
  selectWorkloads(selector: Record<string, string>, namespace?: string): Workload[];
  destinationRulesFor(fqdn: string): (LoadedResource & { resource: DestinationRule })[];
  findGateway(namespace: string, name: string): (LoadedResource & { resource: Gateway }) | undefined;
  rootNamespace: string;
  /** The mesh config, when the input has ConfigMap istio-system/istio (already validated). */
  meshConfig: MeshConfig | undefined;
  /** Messages about the input itself (duplicates). */
  notes: ConfigMessage[];
}

export function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function message(
  loaded: LoadedResource,
  code: (typeof CODES)[keyof typeof CODES],
  path: FieldPath,
  text: string,
  fix?: string,
): ConfigMessage {
  return {
    severity: code.severity,
    code: code.code,
    message: text,
    position: loaded.positionOf(path),
    resource: refOf(loaded.resource),
    path: path.length ? formatPathLocal(path) : '',
    ...(fix ? { fix } : {}),
  };
}

function formatPathLocal(path: FieldPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function buildIndex(input: readonly LoadedResource[]): AnalysisIndex {
  const notes: ConfigMessage[] = [];
  // As `kubectl apply -f` would: a later definition of the same resource replaces the earlier one.
  const latest = new Map<string, LoadedResource>();
  for (const given of input) {
    // A missing spec reads as an empty one, as validation treats it.
    const r = { ...given, resource: { ...given.resource, spec: dropNullFields(given.resource.spec) ?? {} } };
    const key = refKey(refOf(r.resource));
    const prev = latest.get(key);
    if (prev) {
      notes.push(
        message(
          prev,
          CODES.ResourceReplaced,
          [],
          `replaced by the definition at ${r.source.file}:${r.source.line}; only the later one is analyzed`,
        ),
      );
    }
    latest.set(key, r);
  }
  const resources = [...latest.values()];
  const byKind = new Map<string, LoadedResource[]>();
  for (const r of resources) {
    const list = byKind.get(r.resource.kind) ?? [];
    list.push(r);
    byKind.set(r.resource.kind, list);
  }
  const ofKind = <R extends Resource>(kind: R['kind']) =>
    (byKind.get(kind) ?? []) as (LoadedResource & { resource: R })[];
  const ns = (r: LoadedResource) => r.resource.metadata.namespace ?? DEFAULT_NAMESPACE;

  const services = new Map<string, KnownService>();
  for (const s of ofKind<KubeService>('Service')) {
    const host = `${s.resource.metadata.name}.${ns(s)}.${DOMAIN_SUFFIX}`;
    services.set(host, { host, namespace: ns(s), service: s });
  }
  const entryHosts: KnownService[] = [];
  for (const e of ofKind<ServiceEntry>('ServiceEntry')) {
    for (const h of e.resource.spec.hosts ?? []) {
      if (typeof h === 'string') entryHosts.push({ host: resolveHost(h, ns(e)), namespace: ns(e), entry: e });
    }
  }
  const workloads: Workload[] = ofKind<Deployment>('Deployment').map((d) => ({
    deployment: d,
    namespace: ns(d),
    labels: d.resource.spec.template?.metadata?.labels ?? {},
    containerPorts: (d.resource.spec.template?.spec?.containers ?? []).flatMap((c) =>
      (c.ports ?? []).map((p) => p.containerPort),
    ),
  }));
  const meshConfig = ofKind<Resource<'ConfigMap', { data?: Record<string, string> }>>('ConfigMap').find(
    (c) => c.resource.metadata.name === 'istio' && ns(c) === ROOT_NAMESPACE,
  );
  let mesh: MeshConfig | undefined;
  try {
    const parsed: unknown = parse(meshConfig?.resource.spec.data?.mesh ?? '');
    mesh = isPlainObject(parsed) ? (parsed as MeshConfig) : undefined;
  } catch {
    mesh = undefined;
  }
  const rootNamespace = mesh?.rootNamespace ?? ROOT_NAMESPACE;

  return {
    resources,
    ofKind,
    canCheckHost: (fqdn) => (fqdn.endsWith(`.${DOMAIN_SUFFIX}`) ? services.size > 0 : entryHosts.length > 0),
    hasServices: services.size > 0,
    findService: (fqdn) => services.get(fqdn) ?? entryHosts.find((e) => hostCovers(e.host, fqdn)),
    workloads,
    selectWorkloads: (selector, namespace) =>
      workloads.filter(
        (w) => (namespace === undefined || w.namespace === namespace) && labelsMatch(selector, w.labels),
      ),
    destinationRulesFor: (fqdn) =>
      ofKind<DestinationRule>('DestinationRule').filter(
        (d) =>
          typeof d.resource.spec.host === 'string' &&
          hostCovers(resolveHost(d.resource.spec.host, ns(d)), fqdn),
      ),
    findGateway: (namespace, name) =>
      ofKind<Gateway>('Gateway').find((g) => ns(g) === namespace && g.resource.metadata.name === name),
    rootNamespace,
    meshConfig: mesh,
    notes,
  };
}
