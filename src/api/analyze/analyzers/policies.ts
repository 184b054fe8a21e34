// Policies and scoping: PeerAuthentication ports no workload exposes (TRL0001), and several selector-less
// Sidecars (IST0111) or Telemetries (IST0160) in one namespace.

import type { LoadedResource } from '../../load/loaded-resource.js';
import type { ConfigMessage } from '../../messages.js';
import type { KubeService, PeerAuthentication, Sidecar, Telemetry } from '../../types/index.js';
import { CODES } from '../codes.js';
import { type AnalysisIndex, labelsMatch, message } from '../input-index.js';

export function peerAuthenticationPortAnalyzer(index: AnalysisIndex): ConfigMessage[] {
  const out: ConfigMessage[] = [];
  for (const pa of index.ofKind<PeerAuthentication>('PeerAuthentication')) {
    const selector = pa.resource.spec.selector?.matchLabels;
    const ports = Object.keys(pa.resource.spec.portLevelMtls ?? {});
    if (!selector || ports.length === 0) continue;
    const ns = pa.resource.metadata.namespace ?? 'default';
    const selected = index.selectWorkloads(selector, ns === index.rootNamespace ? undefined : ns);
    if (selected.length === 0) {
      if (index.workloads.some((w) => w.namespace === ns)) {
        const text = Object.entries(selector)
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        out.push(
          message(
            pa,
            CODES.NoMatchingWorkloadsFound,
            ['spec', 'selector', 'matchLabels'],
            `No matching workloads for this resource with the following labels: ${text}`,
            'correct the selector',
          ),
        );
      }
      continue;
    }
    const exposed = [...new Set(selected.flatMap((w) => w.containerPorts))].sort((a, b) => a - b);
    for (const port of ports) {
      if (exposed.includes(Number(port))) continue;
      const service = index
        .ofKind<KubeService>('Service')
        .flatMap((s) => (s.resource.spec.ports ?? []).map((p) => ({ s, p })))
        .find(
          ({ s, p }) =>
            p.port === Number(port) &&
            s.resource.spec.selector &&
            selected.some((w) => labelsMatch(s.resource.spec.selector!, w.labels)),
        );
      const hint =
        service && typeof service.p.targetPort === 'number'
          ? ` (${port} is a port of Service ${service.s.resource.metadata.name}; portLevelMtls takes the workload port, ${service.p.targetPort})`
          : '';
      out.push(
        message(
          pa,
          CODES.PeerAuthenticationPortNotOnWorkload,
          ['spec', 'portLevelMtls', port],
          `portLevelMtls port ${port} is not a container port of any selected workload (they expose ${exposed.join(', ') || 'no ports'})${hint}; the setting has no effect`,
          service && typeof service.p.targetPort === 'number'
            ? `use port ${service.p.targetPort}`
            : `use one of ${exposed.join(', ') || 'the workload ports'}`,
        ),
      );
    }
  }
  return out;
}

function withoutSelector(
  list: LoadedResource[],
  hasSelector: (r: LoadedResource) => boolean,
  code:
    | (typeof CODES)['MultipleSidecarsWithoutWorkloadSelectors']
    | (typeof CODES)['MultipleTelemetriesWithoutWorkloadSelectors'],
  kind: string,
): ConfigMessage[] {
  const byNs = new Map<string, LoadedResource[]>();
  for (const r of list.filter((r) => !hasSelector(r))) {
    const ns = r.resource.metadata.namespace ?? 'default';
    byNs.set(ns, [...(byNs.get(ns) ?? []), r]);
  }
  const out: ConfigMessage[] = [];
  for (const [ns, rs] of byNs) {
    if (rs.length < 2) continue;
    const names = rs.map((r) => r.resource.metadata.name);
    for (const r of rs) {
      out.push(
        message(
          r,
          code,
          [],
          `The ${kind}s [${names.join(' ')}] in namespace "${ns}" have no workload selector, which can lead to undefined behavior.`,
          `keep one selector-less ${kind} per namespace; give the others a workloadSelector/selector`,
        ),
      );
    }
  }
  return out;
}

export function selectorlessAnalyzer(index: AnalysisIndex): ConfigMessage[] {
  return [
    ...withoutSelector(
      index.ofKind<Sidecar>('Sidecar'),
      (r) => Boolean((r.resource as Sidecar).spec.workloadSelector),
      CODES.MultipleSidecarsWithoutWorkloadSelectors,
      'Sidecar',
    ),
    ...withoutSelector(
      index.ofKind<Telemetry>('Telemetry'),
      (r) =>
        Boolean(
          (r.resource as Telemetry).spec.selector ||
            (r.resource as Telemetry).spec.targetRef ||
            (r.resource as Telemetry).spec.targetRefs,
        ),
      CODES.MultipleTelemetriesWithoutWorkloadSelectors,
      'Telemetrie',
    ),
  ];
}
