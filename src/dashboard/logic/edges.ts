// Traffic tables for one service or workload: edges grouped by the peer on the other side.

import type { EdgeSignals } from '../../controlplane/api/types.js';

export interface PeerRow {
  /** What the row links to: `workload:<ns>/<name>` or `service:<host>`. */
  key: string;
  label: string;
  requestRate: number;
  rate4xx: number;
  rate5xx: number;
  errorRate: number;
  /** The largest p99 among the grouped edges: an upper bound, quantiles do not add. */
  p99?: number;
}

export type PeerSide = 'source-workload' | 'destination-workload' | 'destination-service';

function keyOf(e: EdgeSignals, side: PeerSide): { key: string; label: string } {
  if (side === 'source-workload') {
    return {
      key: `workload:${e.source.namespace}/${e.source.workload}`,
      label: e.source.workload === 'unknown' ? 'unknown (no sidecar)' : e.source.workload,
    };
  }
  if (side === 'destination-workload') {
    return {
      key: `workload:${e.destination.namespace}/${e.destination.workload}`,
      label: e.destination.workload,
    };
  }
  const m = /^([^.]+)\.[^.]+\.svc\./.exec(e.destination.service);
  return { key: `service:${e.destination.service}`, label: m ? m[1]! : e.destination.service };
}

/** Sums the edges per peer, busiest first. */
export function groupByPeer(edges: readonly EdgeSignals[], side: PeerSide): PeerRow[] {
  const rows = new Map<string, PeerRow>();
  for (const e of edges) {
    const { key, label } = keyOf(e, side);
    let r = rows.get(key);
    if (!r) {
      r = { key, label, requestRate: 0, rate4xx: 0, rate5xx: 0, errorRate: 0 };
      rows.set(key, r);
    }
    r.requestRate += e.requestRate;
    r.rate4xx += e.rate4xx;
    r.rate5xx += e.rate5xx;
    if (e.p99 !== undefined) r.p99 = Math.max(r.p99 ?? 0, e.p99);
  }
  for (const r of rows.values())
    r.errorRate = r.requestRate > 0 ? (r.rate4xx + r.rate5xx) / r.requestRate : 0;
  return [...rows.values()].sort((a, b) => b.requestRate - a.requestRate || (a.label < b.label ? -1 : 1));
}
