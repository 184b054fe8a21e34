// Synthetic Bookinfo traffic through real Istio metric recorders, one registry per sidecar, for store tests.

import type { IstioHttpRecorder } from '../metrics/istio.js';
import { IstioMetrics } from '../metrics/istio.js';
import type { WorkloadFacts } from '../metrics/istio-labels.js';
import { MetricsRegistry } from '../metrics/registry.js';
import type { RequestRecord } from '../record.js';

export interface SimSidecar {
  pod: string;
  namespace: string;
  registry: MetricsRegistry;
}

interface Flow {
  /** Requests per second. */
  rate: number;
  recorders: IstioHttpRecorder[];
  /** Response code for the i-th request. */
  code: (i: number) => number;
  /** Duration for the i-th request (ms). */
  duration: (i: number) => number;
  count: number;
  carry: number;
}

const ns = 'default';
const wl = (name: string, app: string, version: string): WorkloadFacts => ({
  workloadName: name,
  namespace: ns,
  app,
  version,
  canonicalService: app,
  canonicalRevision: version,
  cluster: 'Kubernetes',
});
const sa = (name: string) => `spiffe://cluster.local/ns/default/sa/bookinfo-${name}`;
const svc = (name: string) => ({ host: `${name}.default.svc.cluster.local`, name });

/** 50% at 8 ms, 40% at 20 ms, 10% at 40 ms: p50 = 10, p90 = 25, p99 = 47.5 with Envoy's buckets. */
export const FAST = (i: number) => (i % 10 < 5 ? 8 : i % 10 < 9 ? 20 : 40);
/** Ten times slower: p50 = 100, p90 = 250, p99 = 475. */
export const SLOW = (i: number) => FAST(i) * 10;

/**
 * Bookinfo with sidecars everywhere plus one call to an external host without a sidecar:
 * productpage -> details 10 rps (10% 404, plaintext), productpage -> reviews 10 rps (v1 2, v2 4, v3 4; mTLS),
 * reviews v2 -> ratings 4 rps, reviews v3 -> ratings 4 rps (10% 500), ratings is SLOW;
 * productpage -> httpbin.org 10 rps (20% 404), reported by the source only.
 */
export class BookinfoTraffic {
  readonly sidecars: SimSidecar[] = [];
  readonly #flows: Flow[] = [];

  constructor() {
    const sidecar = (pod: string) => {
      const registry = new MetricsRegistry();
      this.sidecars.push({ pod, namespace: ns, registry });
      return new IstioMetrics({ registry });
    };
    const productpage = wl('productpage-v1', 'productpage', 'v1');
    const details = wl('details-v1', 'details', 'v1');
    const reviews = (v: string) => wl(`reviews-${v}`, 'reviews', v);
    const ratings = wl('ratings-v1', 'ratings', 'v1');
    const pp = sidecar('productpage-v1-7d9f');
    const dt = sidecar('details-v1-5c8d');
    const rv = {
      v1: sidecar('reviews-v1-1a2b'),
      v2: sidecar('reviews-v2-3c4d'),
      v3: sidecar('reviews-v3-5e6f'),
    };
    const rt = sidecar('ratings-v1-7a8b');

    const ok = () => 200;
    // productpage -> details, plaintext.
    this.#flow(10, (i) => (i % 10 === 0 ? 404 : 200), FAST, [
      pp.http({ reporter: 'source', local: productpage, peer: details, service: svc('details') }),
      dt.http({ reporter: 'destination', local: details, peer: productpage, service: svc('details') }),
    ]);
    // productpage -> reviews vN over mTLS.
    for (const [v, rate] of [
      ['v1', 2],
      ['v2', 4],
      ['v3', 4],
    ] as const) {
      this.#flow(rate, ok, FAST, [
        pp.http({
          reporter: 'source',
          local: productpage,
          peer: reviews(v),
          service: svc('reviews'),
          localPrincipal: sa('productpage'),
          peerPrincipal: sa('reviews'),
        }),
        rv[v].http({
          reporter: 'destination',
          local: reviews(v),
          peer: productpage,
          service: svc('reviews'),
          localPrincipal: sa('reviews'),
          peerPrincipal: sa('productpage'),
        }),
      ]);
    }
    // reviews v2/v3 -> ratings over mTLS; v3's calls fail 10% of the time.
    for (const v of ['v2', 'v3'] as const) {
      this.#flow(4, v === 'v3' ? (i) => (i % 10 === 3 ? 500 : 200) : ok, SLOW, [
        rv[v].http({
          reporter: 'source',
          local: reviews(v),
          peer: ratings,
          service: svc('ratings'),
          localPrincipal: sa('reviews'),
          peerPrincipal: sa('ratings'),
        }),
        rt.http({
          reporter: 'destination',
          local: ratings,
          peer: reviews(v),
          service: svc('ratings'),
          localPrincipal: sa('ratings'),
          peerPrincipal: sa('reviews'),
        }),
      ]);
    }
    // productpage -> httpbin.org: no sidecar there, so only the source reports.
    this.#flow(10, (i) => (i % 5 === 0 ? 404 : 200), FAST, [
      pp.http({
        reporter: 'source',
        local: productpage,
        service: { host: 'httpbin.org', name: 'httpbin.org' },
      }),
    ]);
  }

  #flow(rate: number, code: Flow['code'], duration: Flow['duration'], recorders: IstioHttpRecorder[]): void {
    this.#flows.push({ rate, code, duration, recorders, count: 0, carry: 0 });
  }

  /** Records `seconds` worth of traffic on every flow. */
  advance(seconds: number): void {
    const rec: RequestRecord = {
      startTime: 0,
      durationMs: 0,
      responseCode: 200,
      responseFlags: '-',
      bytesReceived: 100,
      bytesSent: 1000,
    };
    for (const f of this.#flows) {
      const exact = f.rate * seconds + f.carry;
      const n = Math.floor(exact + 1e-9);
      f.carry = exact - n;
      for (let k = 0; k < n; k++) {
        rec.responseCode = f.code(f.count);
        rec.durationMs = f.duration(f.count);
        f.count++;
        for (const r of f.recorders) r.record(rec);
      }
    }
  }
}
