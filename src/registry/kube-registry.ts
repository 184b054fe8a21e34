// Kubernetes-style services and endpoints: Services select running workloads (pods) by labels.

import type { KubeService } from '../api/types/index.js';
import type {
  Endpoint,
  RegistryChange,
  RegistrySnapshot,
  Service,
  ServicePort,
  ServiceRegistry,
  Workload,
} from './model.js';
import { protocolFromPort } from './model.js';

export interface KubeRegistryOptions {
  domainSuffix?: string;
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

function targetPort(p: NonNullable<KubeService['spec']['ports']>[number], w: Workload | undefined): number {
  const t = p.targetPort;
  if (typeof t === 'number') return t;
  if (typeof t === 'string') {
    const named = w?.containerPorts.find((c) => c.name === t);
    if (named) return named.port;
    const n = Number(t);
    if (Number.isInteger(n) && n > 0) return n;
  }
  return p.port;
}

export function kubeServiceModel(svc: KubeService, domainSuffix: string): Service {
  const ns = svc.metadata.namespace ?? 'default';
  const ports: ServicePort[] = (svc.spec.ports ?? []).map((p) => ({
    name: p.name ?? '',
    port: p.port,
    targetPort: typeof p.targetPort === 'number' ? p.targetPort : p.port,
    protocol: protocolFromPort({ name: p.name, appProtocol: p.appProtocol }),
  }));
  const clusterIP = svc.spec.clusterIP && svc.spec.clusterIP !== 'None' ? [svc.spec.clusterIP] : [];
  return {
    hostname: `${svc.metadata.name}.${ns}.svc.${domainSuffix}`,
    name: svc.metadata.name,
    namespace: ns,
    source: 'kubernetes',
    addresses: clusterIP,
    ports,
    location: 'MESH_INTERNAL',
    resolution: 'STATIC',
    exportTo: (svc.metadata.annotations?.['networking.istio.io/exportTo'] ?? '*')
      .split(',')
      .map((s) => s.trim()),
    labels: svc.metadata.labels ?? {},
    selector: svc.spec.selector,
    origin: `Service ${ns}/${svc.metadata.name}`,
  };
}

/** Endpoints of one Service: every workload in its namespace that its selector picks, for every port. */
export function kubeEndpoints(svc: KubeService, model: Service, workloads: readonly Workload[]): Endpoint[] {
  const out: Endpoint[] = [];
  for (const w of workloads) {
    if (w.namespace !== model.namespace || !selects(svc.spec.selector, w.labels)) continue;
    for (const p of svc.spec.ports ?? []) {
      out.push({
        address: w.ip,
        port: targetPort(p, w),
        servicePort: p.port,
        labels: w.labels,
        namespace: w.namespace,
        serviceAccount: w.serviceAccount,
        workloadName: w.workloadName,
        podName: w.name,
        locality: w.locality,
        healthy: w.ready,
        tlsMode: w.hasSidecar ? 'istio' : 'disabled',
      });
    }
  }
  return out;
}

/** A registry fed by whoever knows the Services and pods (the local runtime now, Kubernetes later). */
export class KubeRegistry implements ServiceRegistry {
  #services: readonly KubeService[] = [];
  #workloads: readonly Workload[] = [];
  #snapshot: RegistrySnapshot | undefined;
  readonly #listeners = new Set<(c: RegistryChange) => void>();
  readonly #domainSuffix: string;

  constructor(opts: KubeRegistryOptions = {}) {
    this.#domainSuffix = opts.domainSuffix ?? 'cluster.local';
  }

  setServices(services: readonly KubeService[]): void {
    this.#services = services;
    this.#changed({ services: true, endpoints: true });
  }

  setWorkloads(workloads: readonly Workload[]): void {
    this.#workloads = workloads;
    this.#changed({ services: false, endpoints: true });
  }

  snapshot(): RegistrySnapshot {
    if (!this.#snapshot) {
      const services: Service[] = [];
      const endpoints = new Map<string, Endpoint[]>();
      for (const s of this.#services) {
        const model = kubeServiceModel(s, this.#domainSuffix);
        services.push(model);
        endpoints.set(model.hostname, kubeEndpoints(s, model, this.#workloads));
      }
      this.#snapshot = { services, endpoints, workloads: this.#workloads };
    }
    return this.#snapshot;
  }

  onChange(listener: (change: RegistryChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(change: RegistryChange): void {
    this.#snapshot = undefined;
    for (const l of this.#listeners) l(change);
  }
}
