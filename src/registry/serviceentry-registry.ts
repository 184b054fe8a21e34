// ServiceEntry services: inline endpoints, or WorkloadEntries (and pods) picked by a workloadSelector.

import type { ServiceEntry, WorkloadEntry, WorkloadEntrySpec } from '../api/types/index.js';
import type { Endpoint, RegistrySnapshot, Service, Workload } from './model.js';
import { protocolFromPort } from './model.js';

function matches(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}

function resolveShort(host: string, ns: string, suffix: string): string {
  return host.includes('.') || host.startsWith('*') ? host.toLowerCase() : `${host}.${ns}.svc.${suffix}`;
}

function endpointFromEntry(opts: {
  entry: WorkloadEntrySpec;
  se: ServiceEntry;
  servicePort: { number: number; name: string; targetPort?: number };
  namespace: string;
  workloadName?: string;
  fallbackAddress: string;
}): Endpoint | undefined {
  const { entry, servicePort } = opts;
  const address = entry.address ?? opts.fallbackAddress;
  if (!address || address.startsWith('unix://')) return undefined;
  const port = entry.ports?.[servicePort.name] ?? servicePort.targetPort ?? servicePort.number;
  const labels = entry.labels ?? {};
  return {
    address,
    port,
    servicePort: servicePort.number,
    labels,
    namespace: opts.namespace,
    serviceAccount: entry.serviceAccount,
    workloadName: opts.workloadName,
    locality: entry.locality,
    weight: entry.weight,
    healthy: true,
    tlsMode: labels['security.istio.io/tlsMode'] === 'istio' ? 'istio' : 'disabled',
    network: entry.network,
  };
}

/** Services and endpoints from ServiceEntries (one Service per host), resolving Istio's rules. */
export function serviceEntrySnapshot(opts: {
  serviceEntries: readonly ServiceEntry[];
  workloadEntries: readonly WorkloadEntry[];
  workloads?: readonly Workload[];
  domainSuffix?: string;
}): RegistrySnapshot {
  const suffix = opts.domainSuffix ?? 'cluster.local';
  const services: Service[] = [];
  const endpoints = new Map<string, Endpoint[]>();
  for (const se of opts.serviceEntries) {
    const ns = se.metadata.namespace ?? 'default';
    const spec = se.spec;
    const ports = (spec.ports ?? []).map((p) => ({
      name: p.name,
      port: p.number,
      targetPort: p.targetPort ?? p.number,
      protocol: protocolFromPort({ protocol: p.protocol, name: p.name }),
    }));
    const resolution = spec.resolution ?? 'NONE';
    for (const rawHost of spec.hosts) {
      const hostname = resolveShort(rawHost, ns, suffix);
      const svc: Service = {
        hostname,
        name: hostname,
        namespace: ns,
        source: 'serviceentry',
        addresses: (spec.addresses ?? []).filter((a) => !a.includes('/')),
        ports,
        location: spec.location ?? 'MESH_EXTERNAL',
        resolution: resolution === 'NONE' ? 'NONE' : resolution === 'STATIC' ? 'STATIC' : resolution,
        exportTo: spec.exportTo ?? ['*'],
        labels: se.metadata.labels ?? {},
        selector: spec.workloadSelector?.labels,
        subjectAltNames: spec.subjectAltNames,
        origin: `ServiceEntry ${ns}/${se.metadata.name}`,
      };
      services.push(svc);
      const eps: Endpoint[] = [];
      for (const sp of spec.ports ?? []) {
        const servicePort = { number: sp.number, name: sp.name, targetPort: sp.targetPort };
        if (spec.workloadSelector) {
          for (const we of opts.workloadEntries) {
            const weNs = we.metadata.namespace ?? 'default';
            if (weNs !== ns || !matches(spec.workloadSelector.labels, we.spec.labels)) continue;
            const e = endpointFromEntry({
              entry: we.spec,
              se,
              servicePort,
              namespace: ns,
              workloadName: we.metadata.name,
              fallbackAddress: '',
            });
            if (e) eps.push(e);
          }
          for (const w of opts.workloads ?? []) {
            if (w.namespace !== ns || !matches(spec.workloadSelector.labels, w.labels)) continue;
            eps.push({
              address: w.ip,
              port: sp.targetPort ?? sp.number,
              servicePort: sp.number,
              labels: w.labels,
              namespace: ns,
              serviceAccount: w.serviceAccount,
              workloadName: w.workloadName,
              podName: w.name,
              locality: w.locality,
              healthy: w.ready,
              tlsMode: w.hasSidecar ? 'istio' : 'disabled',
            });
          }
        } else {
          for (const entry of spec.endpoints ?? []) {
            // DNS resolution with no endpoint address resolves the host itself.
            const e = endpointFromEntry({
              entry,
              se,
              servicePort,
              namespace: ns,
              fallbackAddress: resolution === 'STATIC' ? '' : rawHost,
            });
            if (e) eps.push(e);
          }
        }
      }
      endpoints.set(hostname, eps);
    }
  }
  return { services, endpoints, workloads: opts.workloads ?? [] };
}

/** Merges snapshots; the first definition of a host wins (Kubernetes before ServiceEntries, as Istio prefers). */
export function mergeSnapshots(
  parts: readonly RegistrySnapshot[],
  workloads: readonly Workload[],
): RegistrySnapshot {
  const seen = new Set<string>();
  const services: Service[] = [];
  const endpoints = new Map<string, Endpoint[]>();
  for (const part of parts) {
    for (const s of part.services) {
      if (seen.has(s.hostname)) continue;
      seen.add(s.hostname);
      services.push(s);
      endpoints.set(s.hostname, [...(part.endpoints.get(s.hostname) ?? [])]);
    }
  }
  return { services, endpoints, workloads };
}
