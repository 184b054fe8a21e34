// One xDS resource encoded once: its message, its serialized bytes, a content version, and reusable wire chunks.

import { createHash } from 'node:crypto';
import { create, type DescMessage, type Message, type MessageShape, toBinary } from '@bufbuild/protobuf';
import { type Any, AnySchema } from '@bufbuild/protobuf/wkt';
import { TrellisError } from '../../shared/errors.js';
import {
  DeltaDiscoveryResponseSchema,
  DiscoveryResponseSchema,
} from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { TYPE_PREFIX } from '../../xds/type-urls.js';

/** A short, stable digest: resource versions (delta) and type versions are hashes of content. */
export function digest(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 16);
}

/**
 * A resource as every stream shares it. Responses are built by concatenating the cached chunks: protobuf
 * parsers append repeated fields that occur several times, so `chunk(a) + chunk(b) + header` decodes exactly
 * as one message holding `[a, b]` and the header's scalar fields. Nothing is re-encoded per stream.
 */
export class EncodedResource {
  readonly typeUrl: string;
  readonly name: string;
  /** The message this was encoded from; it must not be mutated afterwards. */
  readonly message: Message;
  /** The serialized resource (the `value` of its Any). */
  readonly bytes: Uint8Array;
  /** A hash of `bytes`: the resource version in delta xDS, equal across servers for equal content. */
  readonly version: string;
  #any: Any | undefined;
  #sotwChunk: Uint8Array | undefined;
  #deltaChunk: Uint8Array | undefined;

  constructor(opts: { typeUrl: string; name: string; message: Message; bytes: Uint8Array }) {
    this.typeUrl = opts.typeUrl;
    this.name = opts.name;
    this.message = opts.message;
    this.bytes = opts.bytes;
    this.version = digest(opts.bytes);
  }

  get any(): Any {
    this.#any ??= create(AnySchema, { typeUrl: this.typeUrl, value: this.bytes });
    return this.#any;
  }

  /** `DiscoveryResponse{resources: [any]}` on the wire. */
  get sotwChunk(): Uint8Array {
    this.#sotwChunk ??= toBinary(
      DiscoveryResponseSchema,
      create(DiscoveryResponseSchema, { resources: [this.any] }),
    );
    return this.#sotwChunk;
  }

  /** `DeltaDiscoveryResponse{resources: [{name, version, resource: any}]}` on the wire. */
  get deltaChunk(): Uint8Array {
    this.#deltaChunk ??= toBinary(
      DeltaDiscoveryResponseSchema,
      create(DeltaDiscoveryResponseSchema, {
        resources: [{ name: this.name, version: this.version, resource: this.any }],
      }),
    );
    return this.#deltaChunk;
  }
}

// Identical message objects (shared by groups, or reused by a translator between versions) encode once.
const encoded = new WeakMap<Message, EncodedResource>();

/** The xDS name of a resource: `name`, or `cluster_name` for a ClusterLoadAssignment. */
export function resourceNameOf(message: Message): string {
  const m = message as { name?: unknown; clusterName?: unknown };
  if (typeof m.name === 'string') return m.name;
  if (typeof m.clusterName === 'string') return m.clusterName;
  throw new TrellisError('XDS_RESOURCE_UNNAMED', `${message.$typeName} has no name or cluster_name field`);
}

/** Encodes a resource once; the same message object always returns the same EncodedResource. */
export function encodeResource<D extends DescMessage>(schema: D, message: MessageShape<D>): EncodedResource {
  const hit = encoded.get(message);
  if (hit) return hit;
  const name = resourceNameOf(message);
  if (name === '')
    throw new TrellisError('XDS_RESOURCE_UNNAMED', `a ${schema.typeName} has an empty name; xDS needs one`);
  const resource = new EncodedResource({
    typeUrl: TYPE_PREFIX + schema.typeName,
    name,
    message,
    bytes: toBinary(schema, message),
  });
  encoded.set(message, resource);
  return resource;
}
