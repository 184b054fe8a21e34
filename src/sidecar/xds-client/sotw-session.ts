// The client side of a state-of-the-world ADS stream: full version_info/nonce bookkeeping per type.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '../../shared/log.js';
import {
  type DiscoveryRequest,
  DiscoveryRequestSchema,
  type DiscoveryResponse,
} from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { type ChildKind, type SessionHost, sameSet, type XdsSession } from './session.js';
import { KIND_TYPE_URL, kindOfTypeUrl, type ResourceKind } from './types.js';

const INVALID_ARGUMENT = 3;

export class SotwSession implements XdsSession {
  readonly #call: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  readonly #host: SessionHost;
  readonly #logger: Logger;
  #nodeSent = false;
  readonly #nonces = new Map<ResourceKind, string>();
  /** Names last requested for routes and endpoints (listeners and clusters are wildcards). */
  readonly #names = new Map<ChildKind, ReadonlySet<string>>();

  constructor(opts: {
    call: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
    host: SessionHost;
    logger: Logger;
  }) {
    this.#call = opts.call;
    this.#host = opts.host;
    this.#logger = opts.logger;
    this.#call.on('data', (response: DiscoveryResponse) => this.#onResponse(response));
  }

  open(): void {
    for (const kind of ['cluster', 'listener'] as const) this.#send(kind, { resourceNames: [] });
    for (const kind of ['endpoint', 'route'] as const) this.updateSubscription(kind, this.#host.wanted(kind));
  }

  updateSubscription(kind: ChildKind, names: ReadonlySet<string>): void {
    const previous = this.#names.get(kind);
    if (sameSet(previous, names)) return;
    // Never send an empty list first: on a fresh stream it would mean "everything" (legacy wildcard).
    if (!previous && names.size === 0) return;
    this.#names.set(kind, new Set(names));
    this.#send(kind, { resourceNames: [...names].sort(), responseNonce: this.#nonces.get(kind) ?? '' });
  }

  cancel(): void {
    this.#call.cancel();
  }

  #onResponse(response: DiscoveryResponse): void {
    if (!this.#host.current()) return;
    this.#host.received();
    const kind = kindOfTypeUrl(response.typeUrl);
    if (!kind) {
      this.#logger.warn('ignoring a response for a type the sidecar does not subscribe to', {
        type: response.typeUrl,
      });
      return;
    }
    this.#nonces.set(kind, response.nonce);
    const child = kind === 'endpoint' || kind === 'route';
    const nack = this.#host.ingest(
      kind,
      response.resources.map((any) => ({ any, version: response.versionInfo })),
      {
        complete: !child,
        removed: [],
        version: response.versionInfo,
        nonce: response.nonce,
        only: child ? (this.#names.get(kind as ChildKind) ?? new Set()) : undefined,
      },
    );
    this.#send(kind, {
      resourceNames: child ? [...(this.#names.get(kind as ChildKind) ?? [])].sort() : [],
      responseNonce: response.nonce,
      errorDetail: nack === undefined ? undefined : { code: INVALID_ARGUMENT, message: nack },
    });
    this.#host.syncSubscriptions();
  }

  #send(kind: ResourceKind, init: MessageInitShape<typeof DiscoveryRequestSchema>): void {
    const request = create(DiscoveryRequestSchema, {
      ...init,
      typeUrl: KIND_TYPE_URL[kind],
      versionInfo: this.#host.ackedVersion(kind),
      node: this.#nodeSent ? undefined : this.#host.node,
    });
    this.#nodeSent = true;
    this.#call.write(request);
  }
}
