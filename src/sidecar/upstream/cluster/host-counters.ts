// Envoy's per-host counters for `/clusters`, kept with the host's live state so they survive EDS updates.

import type { Host, HostLiveState } from '../lb/host.js';

export interface HostCounters {
  cx_total: number;
  cx_active: number;
  cx_connect_fail: number;
  rq_total: number;
  rq_success: number;
  rq_error: number;
  rq_timeout: number;
}

const counters = new WeakMap<HostLiveState, HostCounters>();

export function hostCounters(host: Host): HostCounters {
  let c = counters.get(host.live);
  if (!c) {
    c = {
      cx_total: 0,
      cx_active: 0,
      cx_connect_fail: 0,
      rq_total: 0,
      rq_success: 0,
      rq_error: 0,
      rq_timeout: 0,
    };
    counters.set(host.live, c);
  }
  return c;
}
