// IST0101 and IST0112 for VirtualService destinations: unknown hosts, missing subsets, ambiguous ports.

import type { ConfigMessage, FieldPath } from '../../messages.js';
import type { Destination, VirtualService } from '../../types/index.js';
import { CODES } from '../codes.js';
import { type AnalysisIndex, message, resolveHost } from '../input-index.js';

function destinations(vs: VirtualService): { d: Destination; path: FieldPath }[] {
  const out: { d: Destination; path: FieldPath }[] = [];
  for (const [i, r] of (vs.spec.http ?? []).entries()) {
    for (const [j, rd] of (r.route ?? []).entries())
      out.push({ d: rd.destination, path: ['spec', 'http', i, 'route', j, 'destination'] });
    if (r.mirror) out.push({ d: r.mirror, path: ['spec', 'http', i, 'mirror'] });
    for (const [j, m] of (r.mirrors ?? []).entries())
      out.push({ d: m.destination, path: ['spec', 'http', i, 'mirrors', j, 'destination'] });
  }
  for (const kind of ['tcp', 'tls'] as const) {
    for (const [i, r] of (vs.spec[kind] ?? []).entries()) {
      for (const [j, rd] of (r.route ?? []).entries())
        out.push({ d: rd.destination, path: ['spec', kind, i, 'route', j, 'destination'] });
    }
  }
  return out;
}

export function destinationAnalyzer(index: AnalysisIndex): ConfigMessage[] {
  const out: ConfigMessage[] = [];
  for (const vs of index.ofKind<VirtualService>('VirtualService')) {
    const ns = vs.resource.metadata.namespace ?? 'default';
    for (const { d, path } of destinations(vs.resource)) {
      const fqdn = resolveHost(d.host, ns);
      const known = index.findService(fqdn);
      if (!known && index.canCheckHost(fqdn)) {
        out.push(
          message(
            vs,
            CODES.ReferencedResourceNotFound,
            [...path, 'host'],
            `Referenced host not found: "${d.host}"`,
            `define a Service or ServiceEntry for ${fqdn}, or correct the host`,
          ),
        );
      }
      const ports = known?.service?.resource.spec as { ports?: { port: number }[] } | undefined;
      if (!d.port && (ports?.ports?.length ?? 0) > 1) {
        const list = ports!.ports!.map((p) => p.port);
        out.push(
          message(
            vs,
            CODES.VirtualServiceDestinationPortSelectorRequired,
            path,
            `This VirtualService routes to a service "${d.host}" that exposes multiple ports [${list.join(' ')}]. Specifying a port in the destination is required to disambiguate.`,
            `add port: {number: ${list[0]}} to the destination`,
          ),
        );
      }
      if (!d.subset) continue;
      const rules = index.destinationRulesFor(fqdn);
      const subsets = rules.flatMap((r) => (r.resource.spec.subsets ?? []).map((s) => s.name));
      if (subsets.includes(d.subset)) continue;
      const fix = rules.length
        ? `add subset ${d.subset} to DestinationRule ${rules.map((r) => `${r.resource.metadata.namespace}/${r.resource.metadata.name}`).join(', ')} (it has ${subsets.join(', ') || 'no subsets'}), or route to one of those`
        : `create a DestinationRule for ${d.host} with subset ${d.subset}, and apply it before this route (make-before-break)`;
      out.push(
        message(
          vs,
          CODES.ReferencedResourceNotFound,
          [...path, 'subset'],
          `Referenced host+subset in destinationrule not found: "${d.host}+${d.subset}"`,
          fix,
        ),
      );
    }
  }
  return out;
}
