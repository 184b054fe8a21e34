// Packing and unpacking `google.protobuf.Any`, and proto3 JSON in and out, over the xDS type registry.

import {
  create,
  type DescMessage,
  fromBinary,
  fromJson,
  type JsonValue,
  type MessageInitShape,
  type MessageShape,
  toBinary,
  toJson,
} from '@bufbuild/protobuf';
import { type Any, AnySchema, anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { xdsRegistry } from './registry.js';
import { TYPE_PREFIX } from './type-urls.js';

export type { Any };

/** Builds a message from an init object and packs it into an Any. */
export function pack<D extends DescMessage>(schema: D, init: MessageInitShape<D>): Any {
  return anyPack(schema, create(schema, init));
}

/** Unpacks an Any whose type must be `schema`; throws a message naming both types otherwise. */
export function unpackAs<D extends DescMessage>(any: Any, schema: D): MessageShape<D> {
  const expected = TYPE_PREFIX + schema.typeName;
  if (any.typeUrl !== expected)
    throw new Error(`expected ${expected}, got ${any.typeUrl || '(empty type_url)'}`);
  return fromBinary(schema, any.value);
}

/** Unpacks any registered type; undefined when the type is unknown. */
export function unpackAny(any: Any) {
  return anyUnpack(any, xdsRegistry);
}

export function typeNameOf(typeUrl: string): string {
  return typeUrl.startsWith(TYPE_PREFIX) ? typeUrl.slice(TYPE_PREFIX.length) : typeUrl;
}

/** Proto3 JSON of a message (Any fields expanded with `@type`), as Envoy's config_dump prints. */
export function messageToJson<D extends DescMessage>(schema: D, msg: MessageShape<D>): JsonValue {
  return toJson(schema, msg, { registry: xdsRegistry, alwaysEmitImplicit: false });
}

/** Parses proto3 JSON (as users write in EnvoyFilter patches) into a message; throws on unknown fields. */
export function messageFromJson<D extends DescMessage>(schema: D, json: JsonValue): MessageShape<D> {
  return fromJson(schema, json, { registry: xdsRegistry });
}

/** Proto3 JSON of an Any, with its `@type`. */
export function anyToJson(any: Any): JsonValue {
  return toJson(AnySchema, any, { registry: xdsRegistry });
}

/** An Any from JSON with `@type` (e.g. a `typed_config` in an EnvoyFilter patch). */
export function anyFromJson(json: JsonValue): Any {
  return fromJson(AnySchema, json, { registry: xdsRegistry });
}

export function encode<D extends DescMessage>(schema: D, msg: MessageShape<D>): Uint8Array {
  return toBinary(schema, msg);
}

export function decode<D extends DescMessage>(schema: D, bytes: Uint8Array): MessageShape<D> {
  return fromBinary(schema, bytes);
}
