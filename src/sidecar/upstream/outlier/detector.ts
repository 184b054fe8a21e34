// Envoy's outlier detector for one cluster: consecutive-error ejections, backed-off un-ejection, stats.

import { type Clock, systemClock, type Timer } from '../../../shared/clock.js';
import { type Logger, silentLogger } from '../../../shared/log.js';
import type { Host, HostLiveState } from '../lb/host.js';
import type { OutlierDetectionConfig } from './config.js';
import { equivalentStatus, isGatewayError, type UpstreamOutcome } from './outcome.js';

export type EjectionType =
  | 'CONSECUTIVE_5XX'
  | 'CONSECUTIVE_GATEWAY_FAILURE'
  | 'CONSECUTIVE_LOCAL_ORIGIN_FAILURE';

/** One ejection or un-ejection, with the fields of Envoy's outlier event log. */
export interface OutlierEvent {
  action: 'EJECT' | 'UNEJECT';
  cluster: string;
  host: Host;
  /** EJECT only. */
  type?: EjectionType;
  /** EJECT only: false when the enforcing percentage let the host stay (detected, not ejected). */
  enforced?: boolean;
  numEjections: number;
  /** Wall clock (ms since the epoch). */
  timestamp: number;
  /** Seconds since the previous opposite action, when there was one. */
  secsSinceLastAction?: number;
}

/** Envoy's `outlier_detection.*` stats for the cluster. */
export interface OutlierStats {
  ejections_active: number;
  ejections_enforced_total: number;
  ejections_overflow: number;
  ejections_enforced_consecutive_5xx: number;
  ejections_detected_consecutive_5xx: number;
  ejections_enforced_consecutive_gateway_failure: number;
  ejections_detected_consecutive_gateway_failure: number;
  ejections_enforced_consecutive_local_origin_failure: number;
  ejections_detected_consecutive_local_origin_failure: number;
  /** Deprecated in Envoy, still emitted. */
  ejections_total: number;
  ejections_consecutive_5xx: number;
}

/** What `/clusters` shows about a host's outlier state. */
export interface HostOutlierView {
  ejected: boolean;
  numEjections: number;
  consecutive5xx: number;
  consecutiveGatewayFailure: number;
  consecutiveLocalOriginFailure: number;
  /** When ejected: how long the current ejection lasts. */
  ejectionDurationMs?: number;
}

class Monitor {
  host: Host;
  consecutive5xx = 0;
  consecutiveGatewayFailure = 0;
  consecutiveLocalOriginFailure = 0;
  numEjections = 0;
  /** Envoy's eject time backoff: grows per ejection, shrinks per healthy interval. */
  backoff = 0;
  jitterMs = 0;
  lastEjectionTime: number | undefined;
  lastUnejectionTime: number | undefined;

  constructor(host: Host) {
    this.host = host;
  }
}

export interface OutlierDetectorOptions {
  cluster: string;
  config: OutlierDetectionConfig;
  clock?: Clock;
  /** Uniform in [0, 1): enforcing percentages and ejection jitter. */
  random?: () => number;
  logger?: Logger;
  /** Every ejection and un-ejection: rebuild the cluster's picker, write the event log. */
  onEvent?: (event: OutlierEvent) => void;
}

/**
 * Feed it one classified outcome per upstream attempt (`record`); it flags hosts as ejected
 * (`host.live.outlierEjected`) and reports each change so the caller can build a new picker.
 * Runs no I/O; the interval sweep is a timer on the injected clock (`start`/`stop`).
 */
export class OutlierDetector {
  readonly cluster: string;
  readonly stats: OutlierStats = {
    ejections_active: 0,
    ejections_enforced_total: 0,
    ejections_overflow: 0,
    ejections_enforced_consecutive_5xx: 0,
    ejections_detected_consecutive_5xx: 0,
    ejections_enforced_consecutive_gateway_failure: 0,
    ejections_detected_consecutive_gateway_failure: 0,
    ejections_enforced_consecutive_local_origin_failure: 0,
    ejections_detected_consecutive_local_origin_failure: 0,
    ejections_total: 0,
    ejections_consecutive_5xx: 0,
  };
  #config: OutlierDetectionConfig;
  readonly #monitors = new Map<HostLiveState, Monitor>();
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #logger: Logger;
  readonly #onEvent: ((event: OutlierEvent) => void) | undefined;
  #timer: Timer | undefined;

  constructor(opts: OutlierDetectorOptions) {
    this.cluster = opts.cluster;
    this.#config = opts.config;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#logger = opts.logger ?? silentLogger;
    this.#onEvent = opts.onEvent;
  }

  get config(): OutlierDetectionConfig {
    return this.#config;
  }

  updateConfig(config: OutlierDetectionConfig): void {
    const intervalChanged = config.intervalMs !== this.#config.intervalMs;
    this.#config = config;
    if (intervalChanged && this.#timer) {
      this.stop();
      this.start();
    }
  }

  /** Tracks the cluster's current hosts; a removed host forgets its ejection. */
  setHosts(hosts: readonly Host[]): void {
    const seen = new Set<HostLiveState>();
    for (const h of hosts) {
      seen.add(h.live);
      const m = this.#monitors.get(h.live);
      if (m) m.host = h;
      else this.#monitors.set(h.live, new Monitor(h));
    }
    for (const [live] of this.#monitors) {
      if (seen.has(live)) continue;
      if (live.outlierEjected) {
        this.stats.ejections_active--;
        live.outlierEjected = false;
      }
      this.#monitors.delete(live);
    }
  }

  start(): void {
    if (this.#timer) return;
    const tick = () => {
      this.sweep();
      this.#timer = this.#clock.setTimeout(tick, this.#config.intervalMs);
      this.#timer.unref?.();
    };
    this.#timer = this.#clock.setTimeout(tick, this.#config.intervalMs);
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The hot path: O(1), no allocation unless a host is ejected. */
  record(host: Host, outcome: UpstreamOutcome): void {
    const m = this.#monitors.get(host.live);
    if (!m) return;
    if (this.#config.splitExternalLocalOriginErrors) {
      if (outcome.kind === 'response') {
        // A response proves the connection worked: local-origin errors start over.
        m.consecutiveLocalOriginFailure = 0;
        this.#httpStatus(m, outcome.status);
      } else if (++m.consecutiveLocalOriginFailure === this.#config.consecutiveLocalOriginFailure) {
        this.#onConsecutiveError(m, 'CONSECUTIVE_LOCAL_ORIGIN_FAILURE');
      }
      return;
    }
    this.#httpStatus(m, equivalentStatus(outcome));
  }

  /** The connection to the host succeeded (Envoy's LocalOriginConnectSuccess): split mode only. */
  recordConnectSuccess(host: Host): void {
    if (!this.#config.splitExternalLocalOriginErrors) return;
    const m = this.#monitors.get(host.live);
    if (m) m.consecutiveLocalOriginFailure = 0;
  }

  #httpStatus(m: Monitor, status: number): void {
    if (status >= 500 && status <= 599) {
      if (isGatewayError(status)) {
        if (++m.consecutiveGatewayFailure === this.#config.consecutiveGatewayFailure) {
          this.#onConsecutiveError(m, 'CONSECUTIVE_GATEWAY_FAILURE');
        }
      } else {
        m.consecutiveGatewayFailure = 0;
      }
      if (++m.consecutive5xx === this.#config.consecutive5xx) this.#onConsecutiveError(m, 'CONSECUTIVE_5XX');
    } else {
      m.consecutive5xx = 0;
      m.consecutiveGatewayFailure = 0;
    }
  }

  #onConsecutiveError(m: Monitor, type: EjectionType): void {
    if (m.host.live.outlierEjected) return;
    switch (type) {
      case 'CONSECUTIVE_5XX':
        this.stats.ejections_detected_consecutive_5xx++;
        break;
      case 'CONSECUTIVE_GATEWAY_FAILURE':
        this.stats.ejections_detected_consecutive_gateway_failure++;
        break;
      case 'CONSECUTIVE_LOCAL_ORIGIN_FAILURE':
        this.stats.ejections_detected_consecutive_local_origin_failure++;
        break;
    }
    this.#eject(m, type);
    // The counter starts over, so another bout of errors is needed to eject again.
    switch (type) {
      case 'CONSECUTIVE_5XX':
        this.stats.ejections_consecutive_5xx++;
        m.consecutive5xx = 0;
        break;
      case 'CONSECUTIVE_GATEWAY_FAILURE':
        m.consecutiveGatewayFailure = 0;
        break;
      case 'CONSECUTIVE_LOCAL_ORIGIN_FAILURE':
        m.consecutiveLocalOriginFailure = 0;
        break;
    }
  }

  #eject(m: Monitor, type: EjectionType): void {
    const config = this.#config;
    const maxPercent = Math.min(100, config.maxEjectionPercent);
    // The percentage after this ejection must stay within the limit (Envoy ≥ 1.27).
    const after = (100 * (this.stats.ejections_active + 1)) / this.#monitors.size;
    let shouldEject = after <= maxPercent;
    if (config.alwaysEjectOneHost) shouldEject ||= this.stats.ejections_active === 0;
    if (!shouldEject) {
      this.stats.ejections_overflow++;
      this.#logger.debug('outlier ejection refused by max_ejection_percent', {
        cluster: this.cluster,
        host: m.host.key,
        type,
      });
      return;
    }
    if (type === 'CONSECUTIVE_5XX') this.stats.ejections_total++;
    const now = this.#clock.monotonic();
    if (!this.#enforced(type)) {
      this.#emit({ action: 'EJECT', type, enforced: false, m, now, since: m.lastUnejectionTime });
      return;
    }
    this.stats.ejections_active++;
    this.stats.ejections_enforced_total++;
    if (type === 'CONSECUTIVE_5XX') this.stats.ejections_enforced_consecutive_5xx++;
    else if (type === 'CONSECUTIVE_GATEWAY_FAILURE')
      this.stats.ejections_enforced_consecutive_gateway_failure++;
    else this.stats.ejections_enforced_consecutive_local_origin_failure++;
    m.host.live.outlierEjected = true;
    m.numEjections++;
    m.lastEjectionTime = now;
    m.jitterMs = Math.floor(this.#random() * (config.maxEjectionTimeJitterMs + 1));
    if (m.backoff * config.baseEjectionTimeMs < config.maxEjectionTimeMs + config.baseEjectionTimeMs)
      m.backoff++;
    this.#logger.info('host ejected', {
      cluster: this.cluster,
      host: m.host.key,
      type,
      ejectionMs: this.#ejectionDuration(m),
    });
    this.#emit({ action: 'EJECT', type, enforced: true, m, now, since: m.lastUnejectionTime });
  }

  #enforced(type: EjectionType): boolean {
    const c = this.#config;
    const percent =
      type === 'CONSECUTIVE_5XX'
        ? c.enforcingConsecutive5xx
        : type === 'CONSECUTIVE_GATEWAY_FAILURE'
          ? c.enforcingConsecutiveGatewayFailure
          : c.enforcingConsecutiveLocalOriginFailure;
    if (percent >= 100) return true;
    if (percent <= 0) return false;
    return this.#random() * 100 < percent;
  }

  #ejectionDuration(m: Monitor): number {
    const c = this.#config;
    return Math.min(c.baseEjectionTimeMs * m.backoff, c.maxEjectionTimeMs) + m.jitterMs;
  }

  /** The interval sweep: un-eject hosts whose time is up, let healthy hosts' backoff decay. */
  sweep(): void {
    const now = this.#clock.monotonic();
    for (const m of this.#monitors.values()) {
      if (!m.host.live.outlierEjected || m.lastEjectionTime === undefined) continue;
      if (this.#ejectionDuration(m) <= now - m.lastEjectionTime) this.#uneject(m, now);
    }
    for (const m of this.#monitors.values()) {
      if (m.host.live.outlierEjected || m.lastUnejectionTime === undefined) continue;
      if (now - m.lastUnejectionTime >= this.#config.intervalMs && m.backoff > 0) m.backoff--;
    }
  }

  #uneject(m: Monitor, now: number): void {
    this.stats.ejections_active--;
    m.host.live.outlierEjected = false;
    m.consecutive5xx = 0;
    m.consecutiveGatewayFailure = 0;
    m.consecutiveLocalOriginFailure = 0;
    m.lastUnejectionTime = now;
    this.#logger.info('host returned to service', { cluster: this.cluster, host: m.host.key });
    this.#emit({ action: 'UNEJECT', m, now, since: m.lastEjectionTime });
  }

  #emit(e: {
    action: 'EJECT' | 'UNEJECT';
    type?: EjectionType;
    enforced?: boolean;
    m: Monitor;
    now: number;
    since: number | undefined;
  }): void {
    if (!this.#onEvent) return;
    const event: OutlierEvent = {
      action: e.action,
      cluster: this.cluster,
      host: e.m.host,
      numEjections: e.m.numEjections,
      timestamp: this.#clock.now(),
    };
    if (e.type) event.type = e.type;
    if (e.enforced !== undefined) event.enforced = e.enforced;
    if (e.since !== undefined) event.secsSinceLastAction = Math.floor((e.now - e.since) / 1000);
    this.#onEvent(event);
  }

  hostView(host: Host): HostOutlierView | undefined {
    const m = this.#monitors.get(host.live);
    if (!m) return undefined;
    const view: HostOutlierView = {
      ejected: host.live.outlierEjected,
      numEjections: m.numEjections,
      consecutive5xx: m.consecutive5xx,
      consecutiveGatewayFailure: m.consecutiveGatewayFailure,
      consecutiveLocalOriginFailure: m.consecutiveLocalOriginFailure,
    };
    if (host.live.outlierEjected) view.ejectionDurationMs = this.#ejectionDuration(m);
    return view;
  }
}

/** Envoy's outlier event log line (`OutlierDetectionEvent` as proto3 JSON). */
export function outlierEventJson(e: OutlierEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {
    timestamp: new Date(e.timestamp).toISOString(),
    cluster_name: e.cluster,
    upstream_url: e.host.key,
    action: e.action,
    num_ejections: e.numEjections,
  };
  if (e.secsSinceLastAction !== undefined) out.secs_since_last_action = String(e.secsSinceLastAction);
  if (e.action === 'EJECT') {
    out.type = e.type;
    out.enforced = e.enforced;
    out.eject_consecutive_event = {};
  }
  return out;
}
