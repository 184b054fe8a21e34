// IST0109: VirtualServices bound to the mesh that define the same host (sidecars use only one of them).

import type { ConfigMessage } from '../../messages.js';
import type { VirtualService } from '../../types/index.js';
import { CODES } from '../codes.js';
import { type AnalysisIndex, message, resolveHost } from '../input-index.js';

export function meshHostConflictAnalyzer(index: AnalysisIndex): ConfigMessage[] {
  const byHost = new Map<string, { vs: ReturnType<AnalysisIndex['ofKind']>[number]; i: number }[]>();
  for (const vs of index.ofKind<VirtualService>('VirtualService')) {
    const gateways = vs.resource.spec.gateways ?? [];
    if (gateways.length && !gateways.includes('mesh')) continue;
    const ns = vs.resource.metadata.namespace ?? 'default';
    (vs.resource.spec.hosts ?? []).forEach((h, i) => {
      const fqdn = resolveHost(h, ns);
      const list = byHost.get(fqdn) ?? [];
      list.push({ vs, i });
      byHost.set(fqdn, list);
    });
  }
  const out: ConfigMessage[] = [];
  for (const [host, list] of byHost) {
    if (list.length < 2) continue;
    const names = list
      .map(({ vs }) => `${vs.resource.metadata.namespace}/${vs.resource.metadata.name}`)
      .join(',');
    for (const { vs, i } of list) {
      out.push(
        message(
          vs,
          CODES.ConflictingMeshGatewayVirtualServiceHosts,
          ['spec', 'hosts', i],
          `The VirtualServices ${names} associated with mesh gateway define the same host ${host} which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.`,
          'merge the routes into one VirtualService (sidecars do not merge VirtualServices; only gateways do)',
        ),
      );
    }
  }
  return out;
}
