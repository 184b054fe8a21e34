// ORIGINAL_DST (Istio's PASSTHROUGH): the host is the connection's original destination.

import { Host, hostKey } from './host.js';
import type { PriorityLoad } from './priority-load.js';
import type { LoadBalancer, PickContext } from './types.js';

const MAX_HOSTS = 1024;
const LOAD: PriorityLoad = Object.freeze({
  healthyLoad: [100],
  degradedLoad: [0],
  panic: [false],
  health: [100],
  degradedAvailability: [0],
});

/**
 * Hosts are created on demand, like Envoy's ORIGINAL_DST cluster does, and kept (at most 1024, oldest
 * idle first out) so that their request counters stay stable between picks.
 */
export class OriginalDstBalancer implements LoadBalancer {
  readonly policy = 'ORIGINAL_DST' as const;
  readonly load = LOAD;
  readonly #hosts = new Map<string, Host>();

  pick(ctx?: PickContext): Host | undefined {
    const dst = ctx?.originalDestination;
    if (!dst) return undefined;
    const key = hostKey(dst.address, dst.port);
    let host = this.#hosts.get(key);
    if (!host) {
      host = new Host({ address: dst.address, port: dst.port });
      this.#hosts.set(key, host);
      if (this.#hosts.size > MAX_HOSTS) this.#evictIdle();
    }
    return host;
  }

  #evictIdle(): void {
    for (const [key, h] of this.#hosts) {
      if (h.activeRequests === 0) {
        this.#hosts.delete(key);
        return;
      }
    }
  }
}
