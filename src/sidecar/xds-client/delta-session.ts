// The client side of an incremental ADS stream: (un)subscribe by name, ACK each response by nonce.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '../../shared/log.js';
import {
  type DeltaDiscoveryRequest,
  DeltaDiscoveryRequestSchema,
  type DeltaDiscoveryResponse,
} from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import type { WireResource } from './decode.js';
import { type ChildKind, type SessionHost, sameSet, type XdsSession } from './session.js';
import { KIND_TYPE_URL, kindOfTypeUrl, type ResourceKind } from './types.js';

const INVALID_ARGUMENT = 3;

export class DeltaSession implements XdsSession {
  readonly #call: ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
  readonly #host: SessionHost;
  readonly #logger: Logger;
  #nodeSent = false;
  readonly #names = new Map<ChildKind, ReadonlySet<string>>();

  constructor(opts: {
    call: ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
    host: SessionHost;
    logger: Logger;
  }) {
    this.#call = opts.call;
    this.#host = opts.host;
    this.#logger = opts.logger;
    this.#call.on('data', (response: DeltaDiscoveryResponse) => this.#onResponse(response));
  }

  open(): void {
    // No names on the first request: a wildcard; what the client holds is announced so only changes come.
    for (const kind of ['cluster', 'listener'] as const)
      this.#send(kind, { initialResourceVersions: this.#host.heldVersions(kind) });
    for (const kind of ['endpoint', 'route'] as const) this.updateSubscription(kind, this.#host.wanted(kind));
  }

  updateSubscription(kind: ChildKind, names: ReadonlySet<string>): void {
    const previous = this.#names.get(kind);
    if (sameSet(previous, names)) return;
    if (!previous) {
      // The first request for a type must name something, or it would subscribe to everything.
      if (names.size === 0) return;
      this.#names.set(kind, new Set(names));
      this.#send(kind, {
        resourceNamesSubscribe: [...names].sort(),
        initialResourceVersions: this.#host.heldVersions(kind, names),
      });
      return;
    }
    const subscribe = [...names].filter((n) => !previous.has(n)).sort();
    const unsubscribe = [...previous].filter((n) => !names.has(n)).sort();
    this.#names.set(kind, new Set(names));
    this.#send(kind, { resourceNamesSubscribe: subscribe, resourceNamesUnsubscribe: unsubscribe });
  }

  cancel(): void {
    this.#call.cancel();
  }

  #onResponse(response: DeltaDiscoveryResponse): void {
    if (!this.#host.current()) return;
    this.#host.received();
    const kind = kindOfTypeUrl(response.typeUrl);
    if (!kind) {
      this.#logger.warn('ignoring a response for a type the sidecar does not subscribe to', {
        type: response.typeUrl,
      });
      return;
    }
    const resources: WireResource[] = [];
    // A resource without a body only refreshes a TTL, which Trellis does not use.
    for (const r of response.resources)
      if (r.resource) resources.push({ any: r.resource, name: r.name, version: r.version });
    const nack = this.#host.ingest(kind, resources, {
      complete: false,
      removed: response.removedResources,
      version: response.systemVersionInfo,
      nonce: response.nonce,
    });
    this.#send(kind, {
      responseNonce: response.nonce,
      errorDetail: nack === undefined ? undefined : { code: INVALID_ARGUMENT, message: nack },
    });
    this.#host.syncSubscriptions();
  }

  #send(kind: ResourceKind, init: MessageInitShape<typeof DeltaDiscoveryRequestSchema>): void {
    const request = create(DeltaDiscoveryRequestSchema, {
      ...init,
      typeUrl: KIND_TYPE_URL[kind],
      node: this.#nodeSent ? undefined : this.#host.node,
    });
    this.#nodeSent = true;
    this.#call.write(request);
  }
}
