// STRICT_DNS and LOGICAL_DNS clusters: resolve the endpoints' names with node's resolver and refresh them.

import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { Clock, Timer } from '../../../shared/clock.js';
import { errorMessage } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/log.js';
import type { HostInit } from '../lb/host.js';

/** Every address a name resolves to (injected in tests). */
export type LookupAll = (hostname: string) => Promise<string[]>;

export const systemLookup: LookupAll = async (hostname) =>
  (await dns.lookup(hostname, { all: true })).map((a) => a.address);

/** Envoy's default `dns_refresh_rate`. */
export const DNS_REFRESH_MS = 5000;

export interface DnsHostsOptions {
  cluster: string;
  /** STRICT_DNS uses every address of every name; LOGICAL_DNS only the first address of its one name. */
  mode: 'strict' | 'logical';
  endpoints: readonly HostInit[];
  lookup: LookupAll;
  clock: Clock;
  logger: Logger;
  refreshMs?: number;
  /** The resolved hosts, whenever they change (and after the first resolution). */
  onHosts(hosts: HostInit[]): void;
}

/**
 * Resolves now and then every `refreshMs`. A failed lookup keeps the last good addresses of that name,
 * as Envoy does, so a DNS hiccup never empties a cluster that was serving.
 */
export class DnsHosts {
  readonly #opts: DnsHostsOptions;
  readonly #last = new Map<string, string[]>();
  #timer: Timer | undefined;
  #stopped = false;
  #published: string | undefined;

  constructor(opts: DnsHostsOptions) {
    this.#opts = opts;
  }

  start(): void {
    void this.#refresh();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#opts.clock.clearTimeout(this.#timer);
  }

  async #refresh(): Promise<void> {
    const o = this.#opts;
    const out: HostInit[] = [];
    for (const ep of o.endpoints) {
      let addresses: string[];
      if (isIP(ep.address)) addresses = [ep.address];
      else {
        try {
          addresses = await o.lookup(ep.address);
          this.#last.set(ep.address, addresses);
        } catch (e) {
          addresses = this.#last.get(ep.address) ?? [];
          o.logger.warn('DNS lookup failed; keeping the last addresses', {
            cluster: o.cluster,
            name: ep.address,
            error: errorMessage(e),
          });
        }
      }
      if (o.mode === 'logical') addresses = addresses.slice(0, 1);
      for (const address of addresses) out.push({ ...ep, address, hostname: ep.hostname || ep.address });
    }
    if (this.#stopped) return;
    const key = out.map((h) => `${h.address}:${h.port}`).join(',');
    if (key !== this.#published) {
      this.#published = key;
      o.onHosts(out);
    }
    this.#timer = o.clock.setTimeout(() => void this.#refresh(), o.refreshMs ?? DNS_REFRESH_MS);
    this.#timer.unref?.();
  }
}
