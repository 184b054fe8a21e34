// Incremental ADS (DeltaAggregatedResources): only changed resources, explicit removals, per-response ACKs.

import { create, toBinary } from '@bufbuild/protobuf';
import { TrellisError } from '../../shared/errors.js';
import type { Node } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import {
  type DeltaDiscoveryRequest,
  DeltaDiscoveryResponseSchema,
} from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { AdsStream, type Response } from './ads-stream.js';
import { concatBytes } from './bytes.js';
import type { ResourceSet } from './snapshot.js';
import type { TypeState } from './type-state.js';

export class DeltaStream extends AdsStream {
  readonly protocol = 'delta' as const;

  protected nodeOf(request: unknown): Node | undefined {
    return (request as DeltaDiscoveryRequest).node;
  }

  protected handleRequest(request: unknown): void {
    const req = request as DeltaDiscoveryRequest;
    if (!req.typeUrl)
      throw new TrellisError('XDS_NO_TYPE_URL', 'a DeltaDiscoveryRequest on an ADS stream must set type_url');
    const ts = this.typeState(req.typeUrl);
    if (req.responseNonce !== '') {
      const version = ts.outstanding.get(req.responseNonce);
      if (version === undefined) this.recordExpiredNonce(req.typeUrl);
      else if (req.errorDetail) this.recordNack(ts, req.responseNonce, version, req.errorDetail.message);
      else this.recordAck(ts, req.responseNonce, version);
    }
    // Subscription changes count whatever the nonce: delta requests are not superseded like SotW ones.
    if (!ts.subscribed) {
      ts.subscribed = true;
      ts.mustRespond = true;
      for (const [name, version] of Object.entries(req.initialResourceVersions)) ts.view.enter(name, version);
      // Never having named a resource means "*" (legacy wildcard), until the client names one.
      if (req.resourceNamesSubscribe.length === 0) ts.setWildcard(true);
    }
    for (const name of req.resourceNamesSubscribe) {
      ts.legacyWildcard = false;
      if (name === '*') ts.setWildcard(true);
      else ts.subscribe(name, req.initialResourceVersions[name] ?? null);
    }
    for (const name of req.resourceNamesUnsubscribe) {
      if (name === '*') ts.setWildcard(false);
      else ts.unsubscribe(name);
    }
    if (ts.mustRespond) this.schedule();
  }

  protected respond(ts: TypeState, target: ResourceSet, streamNonce: () => string): Response | undefined {
    const base = ts.view.base;
    // A wildcard client holding exactly the group's previous set gets the group's diff: build it once.
    const shared = ts.wildcard && ts.names.size === 0 && ts.newlyRequested.size === 0 && ts.view.plain;
    const { changed, removed } = ts.view.changesTo(target, ts);
    // A requested name that does not exist is answered as removed: that is how delta says "no such resource".
    for (const name of ts.newlyRequested)
      if (!target.get(name) && !removed.includes(name)) removed.push(name);
    if (!ts.mustRespond && changed.length === 0 && removed.length === 0) return undefined;
    const build = (nonce: string) =>
      concatBytes([
        ...changed.map((r) => r.deltaChunk),
        toBinary(
          DeltaDiscoveryResponseSchema,
          create(DeltaDiscoveryResponseSchema, {
            systemVersionInfo: target.version,
            typeUrl: ts.typeUrl,
            nonce,
            removedResources: removed,
          }),
        ),
      ]);
    if (shared) {
      const from = base?.id ?? 0;
      const nonce = `d${target.id}.${from}`;
      return { bytes: target.sharedResponse(`delta:${from}`, () => build(nonce)), nonce, changed };
    }
    const nonce = streamNonce();
    return { bytes: build(nonce), nonce, changed };
  }
}
