// Gateways: VirtualServices naming missing gateways (IST0101) or hosts a gateway does not serve (IST0132),
// gateway selectors with no workload (IST0101) and ports the workload does not expose (IST0104).

import type { ConfigMessage } from '../../messages.js';
import type { Gateway, KubeService, VirtualService } from '../../types/index.js';
import { hostCovers } from '../../validate/names.js';
import { CODES } from '../codes.js';
import { type AnalysisIndex, labelsMatch, message } from '../input-index.js';

/** `name`, `ns/name` or `name.ns.svc.cluster.local` to a namespace and a name. */
function gatewayRef(ref: string, namespace: string): { namespace: string; name: string } {
  const slash = ref.indexOf('/');
  if (slash >= 0) return { namespace: ref.slice(0, slash), name: ref.slice(slash + 1) };
  const parts = ref.split('.');
  if (parts.length > 1) return { namespace: parts[1]!, name: parts[0]! };
  return { namespace, name: ref };
}

/** The host part of a Gateway server host (`ns/host` or `host`). */
function serverHost(h: string): string {
  const slash = h.indexOf('/');
  return slash >= 0 ? h.slice(slash + 1) : h;
}

export function gatewayReferenceAnalyzer(index: AnalysisIndex): ConfigMessage[] {
  const out: ConfigMessage[] = [];
  for (const vs of index.ofKind<VirtualService>('VirtualService')) {
    const ns = vs.resource.metadata.namespace ?? 'default';
    const check = (ref: string, path: (string | number)[]) => {
      if (ref === 'mesh') return;
      const { namespace, name } = gatewayRef(ref, ns);
      const gw = index.findGateway(namespace, name);
      if (!gw) {
        out.push(
          message(
            vs,
            CODES.ReferencedResourceNotFound,
            path,
            `Referenced gateway not found: "${ref}"`,
            `define Gateway ${namespace}/${name}, or correct the name (namespace/name for another namespace)`,
          ),
        );
        return;
      }
      if (path.length !== 3) return;
      const hosts = gw.resource.spec.servers.flatMap((s) => s.hosts.map(serverHost));
      const missing = (vs.resource.spec.hosts ?? []).filter(
        (h) => !hosts.some((g) => hostCovers(g, h) || hostCovers(h, g)),
      );
      if (missing.length) {
        out.push(
          message(
            vs,
            CODES.VirtualServiceHostNotFoundInGateway,
            ['spec', 'hosts'],
            `one or more host [${missing.join(' ')}] defined in VirtualService ${ns}/${vs.resource.metadata.name} not found in Gateway ${namespace}/${name}.`,
            `add the host to a server of Gateway ${namespace}/${name}, or remove it from the VirtualService`,
          ),
        );
      }
    };
    for (const [i, g] of (vs.resource.spec.gateways ?? []).entries()) check(g, ['spec', 'gateways', i]);
    for (const [i, r] of (vs.resource.spec.http ?? []).entries()) {
      for (const [j, m] of (r.match ?? []).entries()) {
        for (const [k, g] of (m.gateways ?? []).entries())
          check(g, ['spec', 'http', i, 'match', j, 'gateways', k]);
      }
    }
  }
  return out;
}

export function gatewayWorkloadAnalyzer(index: AnalysisIndex): ConfigMessage[] {
  const out: ConfigMessage[] = [];
  if (index.workloads.length === 0) return out;
  for (const gw of index.ofKind<Gateway>('Gateway')) {
    const selector = gw.resource.spec.selector ?? {};
    if (Object.keys(selector).length === 0) continue;
    const text = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const pods = index.selectWorkloads(selector);
    if (pods.length === 0) {
      out.push({
        ...message(
          gw,
          CODES.ReferencedResourceNotFound,
          ['spec', 'selector'],
          `Referenced selector not found: "${text}"`,
          'deploy a gateway workload with these labels, or correct the selector',
        ),
        severity: 'info',
      });
      continue;
    }
    const services = index.ofKind<KubeService>('Service');
    gw.resource.spec.servers.forEach((s, i) => {
      const exposed = pods.some((p) => {
        if (p.containerPorts.includes(s.port.number)) return true;
        return services.some(
          (svc) =>
            svc.resource.metadata.namespace === p.namespace &&
            svc.resource.spec.selector &&
            labelsMatch(svc.resource.spec.selector, p.labels) &&
            (svc.resource.spec.ports ?? []).some(
              (sp) =>
                sp.targetPort === s.port.number || (sp.targetPort === undefined && sp.port === s.port.number),
            ),
        );
      });
      if (!exposed) {
        out.push(
          message(
            gw,
            CODES.GatewayPortNotOnWorkload,
            ['spec', 'servers', i, 'port', 'number'],
            `The gateway refers to a port that is not exposed on the workload (pod selector ${text}; port ${s.port.number})`,
            `add containerPort ${s.port.number} to the gateway Deployment, or use a port it exposes (${[...new Set(pods.flatMap((p) => p.containerPorts))].join(', ') || 'none'})`,
          ),
        );
      }
    });
  }
  return out;
}

/** IST0145: two Gateways on the same workloads and port that both claim a host. */
export function conflictingGatewayAnalyzer(index: AnalysisIndex): ConfigMessage[] {
  const out: ConfigMessage[] = [];
  const gws = index.ofKind<Gateway>('Gateway');
  const key = (sel: Record<string, string> | undefined) =>
    Object.entries(sel ?? {})
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  for (const [a, ga] of gws.entries()) {
    for (const gb of gws.slice(a + 1)) {
      if (key(ga.resource.spec.selector) !== key(gb.resource.spec.selector)) continue;
      for (const [i, sa] of ga.resource.spec.servers.entries()) {
        for (const sb of gb.resource.spec.servers) {
          if (sa.port.number !== sb.port.number || (sa.bind ?? '') !== (sb.bind ?? '')) continue;
          // Different TLS server names can share a port (SNI tells them apart); the same plain-text host cannot.
          const shared = sa.hosts
            .map(serverHost)
            .filter((h) => sb.hosts.map(serverHost).some((o) => hostCovers(h, o) || hostCovers(o, h)));
          if (shared.length === 0 || (sa.tls && sb.tls)) continue;
          const names = `${ga.resource.metadata.namespace}/${ga.resource.metadata.name}, ${gb.resource.metadata.namespace}/${gb.resource.metadata.name}`;
          for (const [g, at] of [
            [ga, ['spec', 'servers', i, 'port', 'number']],
            [gb, ['spec', 'servers', gb.resource.spec.servers.indexOf(sb), 'port', 'number']],
          ] as const) {
            out.push(
              message(
                g,
                CODES.ConflictingGateways,
                at,
                `Conflict with gateways ${names} (workload selector ${key(ga.resource.spec.selector) || '(all)'}, port ${sa.port.number}, hosts [${shared.join(' ')}]).`,
                'merge the servers into one Gateway, or give them different ports or hosts',
              ),
            );
          }
        }
      }
    }
  }
  return out;
}
