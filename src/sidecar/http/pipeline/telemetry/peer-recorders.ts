// Istio metric recorders resolved once per (service, peer, principal): a request costs three Map lookups.

import type { IstioHttpRecorder, IstioMetrics } from '../../../../telemetry/metrics/istio.js';
import type { IstioReporter, WorkloadFacts } from '../../../../telemetry/metrics/istio-labels.js';

export interface RecorderKey {
  reporter: IstioReporter;
  /** Identifies the destination service (a cluster name, or the authority when the cluster has none). */
  serviceKey: string;
  service: { host?: string; name?: string };
  /** Identifies the peer (its metadata id, or its endpoint); '' when unknown. */
  peerKey: string;
  peer: WorkloadFacts | undefined;
  peerPrincipal: string | undefined;
  localPrincipal: string | undefined;
}

type ByPrincipal = Map<string, IstioHttpRecorder>;

/**
 * One cache per connection manager and reporter. The label values of a recorder depend only on the key's
 * parts, so the first request of a pair resolves the series and every later one reuses them.
 */
export class PeerRecorders {
  readonly #metrics: IstioMetrics;
  readonly #local: WorkloadFacts;
  readonly #byService = new Map<string, Map<string, ByPrincipal>>();

  constructor(metrics: IstioMetrics, local: WorkloadFacts) {
    this.#metrics = metrics;
    this.#local = local;
  }

  recorder(key: RecorderKey): IstioHttpRecorder {
    let byPeer = this.#byService.get(key.serviceKey);
    if (byPeer === undefined) {
      byPeer = new Map();
      this.#byService.set(key.serviceKey, byPeer);
    }
    let byPrincipal = byPeer.get(key.peerKey);
    if (byPrincipal === undefined) {
      byPrincipal = new Map();
      byPeer.set(key.peerKey, byPrincipal);
    }
    const principal = key.peerPrincipal ?? '';
    let rec = byPrincipal.get(principal);
    if (rec === undefined) {
      rec = this.#metrics.http({
        reporter: key.reporter,
        local: this.#local,
        peer: key.peer,
        peerPrincipal: key.peerPrincipal,
        localPrincipal: key.localPrincipal,
        service: key.service,
      });
      byPrincipal.set(principal, rec);
    }
    return rec;
  }
}
