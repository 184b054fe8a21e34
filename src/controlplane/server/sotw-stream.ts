// State-of-the-world ADS (StreamAggregatedResources): full LDS/CDS sets, changed-only RDS/EDS, nonce-checked ACKs.

import { create, toBinary } from '@bufbuild/protobuf';
import { TrellisError } from '../../shared/errors.js';
import type { Node } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import {
  type DiscoveryRequest,
  DiscoveryResponseSchema,
} from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { isWildcardType } from '../../xds/type-urls.js';
import { AdsStream, type Response } from './ads-stream.js';
import { concatBytes } from './bytes.js';
import type { ResourceSet } from './snapshot.js';
import type { TypeState } from './type-state.js';

export class SotwStream extends AdsStream {
  readonly protocol = 'sotw' as const;

  protected nodeOf(request: unknown): Node | undefined {
    return (request as DiscoveryRequest).node;
  }

  protected handleRequest(request: unknown): void {
    const req = request as DiscoveryRequest;
    if (!req.typeUrl)
      throw new TrellisError('XDS_NO_TYPE_URL', 'a DiscoveryRequest on an ADS stream must set type_url');
    const ts = this.typeState(req.typeUrl);
    if (req.responseNonce !== '') {
      // A nonce older than the latest response is stale: the client will speak again about the latest one.
      if (req.responseNonce !== ts.sent?.nonce) {
        this.recordExpiredNonce(req.typeUrl);
        return;
      }
      if (req.errorDetail) this.recordNack(ts, req.responseNonce, ts.sent.version, req.errorDetail.message);
      else this.recordAck(ts, req.responseNonce, req.versionInfo);
    } else {
      // No nonce: an initial request (or a re-request before any response); it is always answered.
      ts.mustRespond = true;
    }
    this.#updateSubscription(ts, req.resourceNames);
    ts.subscribed = true;
    if (ts.mustRespond) this.schedule();
  }

  protected respond(ts: TypeState, target: ResourceSet, streamNonce: () => string): Response | undefined {
    const { changed, removed } = ts.view.changesTo(target, ts);
    const header = (nonce: string) =>
      toBinary(
        DiscoveryResponseSchema,
        create(DiscoveryResponseSchema, { versionInfo: target.version, typeUrl: ts.typeUrl, nonce }),
      );
    if (isWildcardType(ts.typeUrl)) {
      // Listeners and clusters: every response carries the complete set; an omitted name means deleted.
      if (!ts.mustRespond && changed.length === 0 && removed.length === 0) return undefined;
      if (ts.wildcard && ts.names.size === 0) {
        // Every wildcard client of the group gets these exact bytes: build them once.
        const nonce = `w${target.id}`;
        const bytes = target.sharedResponse('sotw', () =>
          concatBytes([...[...target.resources.values()].map((r) => r.sotwChunk), header(nonce)]),
        );
        return { bytes, nonce, changed };
      }
      const body: Uint8Array[] = [];
      for (const name of [...ts.names].sort()) {
        const r = target.get(name);
        if (r) body.push(r.sotwChunk);
      }
      const nonce = streamNonce();
      body.push(header(nonce));
      return { bytes: concatBytes(body), nonce, changed };
    }
    // Routes and endpoints: only what changed; SotW has no way to delete them (parents stop naming them).
    if (!ts.mustRespond && changed.length === 0) return undefined;
    const nonce = streamNonce();
    return { bytes: concatBytes([...changed.map((r) => r.sotwChunk), header(nonce)]), nonce, changed };
  }

  /** Applies the xDS spec's subscription rules, legacy wildcard included. */
  #updateSubscription(ts: TypeState, names: readonly string[]): void {
    // Most requests are ACKs repeating the same (possibly long) list of names: check that cheaply first.
    if (!ts.legacyWildcard && names.length > 0 && sameNames(ts, names)) return;
    if (names.length === 0) {
      if (ts.legacyWildcard) ts.setWildcard(true);
      else {
        ts.setWildcard(false);
        for (const n of [...ts.names]) ts.unsubscribe(n);
      }
      return;
    }
    ts.legacyWildcard = false;
    const wanted = new Set(names.filter((n) => n !== '*'));
    ts.setWildcard(names.includes('*'));
    for (const n of [...ts.names]) if (!wanted.has(n)) ts.unsubscribe(n);
    for (const n of wanted) ts.subscribe(n);
  }
}

function sameNames(ts: TypeState, names: readonly string[]): boolean {
  let explicit = 0;
  let star = false;
  for (const n of names) {
    if (n === '*') star = true;
    else if (!ts.names.has(n)) return false;
    else explicit++;
  }
  return star === ts.wildcard && explicit === ts.names.size;
}
