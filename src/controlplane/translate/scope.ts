// What one proxy sees: the services it may call (Sidecar egress scoping) and the ports its workload serves.

import type { Sidecar } from '../../api/types/index.js';
import type { Protocol, Service } from '../../registry/model.js';
import { protocolFromPort } from '../../registry/model.js';
import { selectorMatches } from '../index/labels.js';
import type { MeshIndex } from '../index/mesh-index.js';
import { sidecarFor } from '../index/workload-policies.js';
import type { MeshProxy } from './proxy.js';

export interface InboundPort {
  /** The workload port traffic arrives on (a Service targetPort or a container port). */
  port: number;
  protocol: Protocol;
  name: string;
  /** Services that route to this port, for metadata and metrics. */
  services: Service[];
  /** Sidecar ingress `defaultEndpoint` (`127.0.0.1:8080`, `0.0.0.0:8080`) when set. */
  defaultEndpoint?: { address: string; port: number };
}

export interface ProxyScope {
  proxy: MeshProxy;
  /** Services visible to this proxy, sorted by host. */
  services: readonly Service[];
  inbound: InboundPort[];
  sidecar?: Sidecar;
  outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
}

function parseEndpoint(text: string): { address: string; port: number } | undefined {
  const m = /^(?:unix:\/\/.*|(\[[^\]]+\]|[^:]+):(\d+))$/.exec(text);
  if (!m?.[1] || !m[2]) return undefined;
  const address = m[1] === '0.0.0.0' ? '' : m[1].replace(/^\[|\]$/g, '');
  return { address, port: Number(m[2]) };
}

export function inboundPorts(index: MeshIndex, proxy: MeshProxy, sidecar?: Sidecar): InboundPort[] {
  if (sidecar?.spec.ingress && sidecar.spec.ingress.length > 0) {
    return sidecar.spec.ingress.map((ing) => ({
      port: ing.port.number,
      protocol: protocolFromPort({ protocol: ing.port.protocol, name: ing.port.name }),
      name: ing.port.name,
      services: [],
      defaultEndpoint: ing.defaultEndpoint ? parseEndpoint(ing.defaultEndpoint) : undefined,
    }));
  }
  const byPort = new Map<number, InboundPort>();
  for (const svc of index.services.all) {
    if (svc.namespace !== proxy.namespace || !svc.selector || Object.keys(svc.selector).length === 0)
      continue;
    if (!selectorMatches(svc.selector, proxy.labels)) continue;
    for (const p of svc.ports) {
      const existing = byPort.get(p.targetPort);
      if (existing) {
        existing.services.push(svc);
        // A port any service declares as HTTP is served as HTTP; declarations beat sniffing.
        if (existing.protocol === 'UNKNOWN') existing.protocol = p.protocol;
      } else {
        byPort.set(p.targetPort, { port: p.targetPort, protocol: p.protocol, name: p.name, services: [svc] });
      }
    }
  }
  for (const cp of proxy.podPorts) {
    if (!byPort.has(cp.containerPort)) {
      byPort.set(cp.containerPort, {
        port: cp.containerPort,
        protocol: protocolFromPort({ name: cp.name }),
        name: cp.name ?? '',
        services: [],
      });
    }
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

export function buildScope(index: MeshIndex, proxy: MeshProxy): ProxyScope {
  const root = index.mesh.rootNamespace;
  const sidecar = proxy.type === 'sidecar' ? sidecarFor(index.config, proxy, root) : undefined;
  const egress = sidecar?.spec.egress?.flatMap((e) => e.hosts);
  const services = index.services.visible(proxy.namespace, egress && egress.length > 0 ? egress : undefined);
  const outboundTrafficPolicy =
    sidecar?.spec.outboundTrafficPolicy?.mode ?? index.mesh.outboundTrafficPolicy?.mode ?? 'ALLOW_ANY';
  return {
    proxy,
    services,
    inbound: proxy.type === 'sidecar' ? inboundPorts(index, proxy, sidecar) : [],
    sidecar,
    outboundTrafficPolicy,
  };
}
