// Test helper: the security filters of one translated filter chain, decoded by the sidecar's own decoders.

import { decodeListener } from '../../../src/sidecar/config/decode/index.js';
import type { HttpFilterConfig, NetworkRbacConfig } from '../../../src/sidecar/config/model.js';
import type { Listener } from '../../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';

export interface ChainSecurity {
  http: HttpFilterConfig[];
  network: NetworkRbacConfig[];
}

/** Decodes the filter chain named `chainName` (e.g. `9080-mtls-http`) of `virtualInbound`. */
export function chainSecurity(listeners: readonly Listener[], chainName: string): ChainSecurity {
  const raw = listeners.find((l) => l.name === 'virtualInbound');
  if (!raw) throw new Error('no virtualInbound listener');
  const inbound = decodeListener(raw);
  const chain = inbound.filterChains.find((c) => c.name === chainName);
  if (!chain) {
    const names = inbound.filterChains.map((c) => c.name).join(', ');
    throw new Error(`no filter chain "${chainName}" on virtualInbound (have: ${names})`);
  }
  const http =
    chain.terminal.kind === 'http'
      ? chain.terminal.hcm.httpFilters.filter(
          (f) => f.kind === 'rbac' || f.kind === 'jwt' || f.kind === 'extAuthz',
        )
      : [];
  return { http: [...http], network: [...chain.networkFilters] };
}
