// The upstream host model: an endpoint's immutable description plus live state shared across EDS updates.

/** Envoy's locality: region, zone and sub-zone, any part may be empty. */
export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

export const NO_LOCALITY: Locality = Object.freeze({ region: '', zone: '', subZone: '' });

/** EDS `health_status` values, as Envoy names them. */
export type EndpointHealth = 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'TIMEOUT' | 'DEGRADED';

/** What a balancer makes of a host: Envoy's coarse health. */
export type CoarseHealth = 'healthy' | 'degraded' | 'unhealthy';

/**
 * Mutable facts about a host that outlive one EDS version: in-flight requests and outlier ejection.
 * In-flight requests that started on an older Host object must still decrement the same counter,
 * so the state is an object shared by every Host built for the same address.
 */
export class HostLiveState {
  #active = 0;
  #outlierEjected = false;

  get activeRequests(): number {
    return this.#active;
  }

  requestStarted(): void {
    this.#active++;
  }

  requestFinished(): void {
    if (this.#active > 0) this.#active--;
  }

  /** Set by outlier detection (`::health_flags::/failed_outlier_check`); a balancer rebuild reads it. */
  get outlierEjected(): boolean {
    return this.#outlierEjected;
  }

  set outlierEjected(value: boolean) {
    this.#outlierEjected = value;
  }
}

export interface HostInit {
  /** IP address (or a DNS name for STRICT_DNS clusters). */
  address: string;
  port: number;
  /** `load_balancing_weight` of the endpoint; default 1. */
  weight?: number;
  locality?: Locality;
  /** EDS priority of the endpoint's LocalityLbEndpoints; 0 is the most preferred. */
  priority?: number;
  /** `load_balancing_weight` of the endpoint's LocalityLbEndpoints (locality weighted LB); default 1. */
  localityWeight?: number;
  health?: EndpointHealth;
  /** Endpoint metadata (`filter_metadata`), for subset selection and transport socket matching. */
  metadata?: Readonly<Record<string, unknown>>;
  hostname?: string;
}

/** One upstream endpoint as a balancer sees it. Immutable except for its shared live state. */
export class Host {
  readonly address: string;
  readonly port: number;
  /** `address:port` (`[v6]:port`), the key Envoy hashes for RING_HASH and MAGLEV. */
  readonly key: string;
  readonly weight: number;
  readonly locality: Locality;
  /** `region/zone/subzone`, for grouping and messages. */
  readonly localityKey: string;
  readonly priority: number;
  readonly localityWeight: number;
  readonly health: EndpointHealth;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly hostname: string;
  readonly live: HostLiveState;

  constructor(init: HostInit, live: HostLiveState = new HostLiveState()) {
    this.address = init.address;
    this.port = init.port;
    this.key = hostKey(init.address, init.port);
    this.weight = Math.max(1, Math.floor(init.weight ?? 1));
    this.locality = init.locality ?? NO_LOCALITY;
    this.localityKey = localityKey(this.locality);
    this.priority = Math.max(0, Math.floor(init.priority ?? 0));
    this.localityWeight = Math.max(0, Math.floor(init.localityWeight ?? 1));
    this.health = init.health ?? 'UNKNOWN';
    this.metadata = init.metadata ?? {};
    this.hostname = init.hostname ?? '';
    this.live = live;
  }

  get activeRequests(): number {
    return this.live.activeRequests;
  }

  /**
   * Envoy's coarse health: EDS UNHEALTHY/DRAINING/TIMEOUT or an outlier ejection make a host
   * unhealthy; EDS DEGRADED makes it degraded (used only when healthy hosts run short).
   */
  get coarseHealth(): CoarseHealth {
    if (this.live.outlierEjected) return 'unhealthy';
    switch (this.health) {
      case 'UNHEALTHY':
      case 'DRAINING':
      case 'TIMEOUT':
        return 'unhealthy';
      case 'DEGRADED':
        return 'degraded';
      default:
        return 'healthy';
    }
  }

  toString(): string {
    return this.key;
  }
}

export function hostKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function localityKey(l: Locality): string {
  return `${l.region}/${l.zone}/${l.subZone}`;
}

/** Parses `region/zone/subzone` (Istio's locality label form); missing parts are empty. */
export function parseLocality(text: string | undefined): Locality {
  if (!text) return NO_LOCALITY;
  const [region = '', zone = '', subZone = ''] = text.split('/');
  return { region, zone, subZone };
}

/**
 * Builds the hosts of a new EDS version, reusing the live state (in-flight requests, ejection) of
 * hosts that keep their address, so churn never resets an ejected host or loses a request count.
 */
export function reconcileHosts(previous: readonly Host[], next: readonly HostInit[]): Host[] {
  const byKey = new Map<string, HostLiveState>();
  for (const h of previous) byKey.set(h.key, h.live);
  return next.map((init) => new Host(init, byKey.get(hostKey(init.address, init.port))));
}
