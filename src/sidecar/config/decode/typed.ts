// Typed extension configs (`google.protobuf.Any`), unpacked by type URL; TypedStruct wrappers accepted as Envoy does.

import { type DescMessage, fromBinary, type MessageShape } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { messageFromJson } from '../../../xds/any.js';
import { TypedStructSchema as UdpaTypedStructSchema } from '../../../xds/gen/udpa/type/v1/typed_struct_pb.js';
import { TypedStructSchema as XdsTypedStructSchema } from '../../../xds/gen/xds/type/v3/typed_struct_pb.js';
import { TYPE_PREFIX } from '../../../xds/type-urls.js';
import { at, type DecodeContext } from './problems.js';

const UDPA_TYPED_STRUCT = TYPE_PREFIX + UdpaTypedStructSchema.typeName;
const XDS_TYPED_STRUCT = TYPE_PREFIX + XdsTypedStructSchema.typeName;

/** The type a config really has: the Any's, or the one a TypedStruct wraps. */
export function effectiveTypeUrl(any: Any): string {
  if (any.typeUrl === UDPA_TYPED_STRUCT || any.typeUrl === XDS_TYPED_STRUCT) {
    try {
      const ts = fromBinary(
        any.typeUrl === UDPA_TYPED_STRUCT ? UdpaTypedStructSchema : XdsTypedStructSchema,
        any.value,
      );
      return ts.typeUrl;
    } catch {
      return any.typeUrl;
    }
  }
  return any.typeUrl;
}

export function typeUrlOf(schema: DescMessage): string {
  return TYPE_PREFIX + schema.typeName;
}

/** Unpacks `any` as `schema` (directly or from a TypedStruct); reports and returns undefined when it cannot. */
export function unpackTyped<D extends DescMessage>(
  ctx: DecodeContext,
  any: Any,
  schema: D,
  path: string,
): MessageShape<D> | undefined {
  const expected = typeUrlOf(schema);
  try {
    if (any.typeUrl === expected) return fromBinary(schema, any.value);
    if (any.typeUrl === UDPA_TYPED_STRUCT || any.typeUrl === XDS_TYPED_STRUCT) {
      const ts = fromBinary(
        any.typeUrl === UDPA_TYPED_STRUCT ? UdpaTypedStructSchema : XdsTypedStructSchema,
        any.value,
      );
      if (ts.typeUrl !== expected) {
        ctx.report(path, `TypedStruct wraps ${ts.typeUrl || '(no type_url)'}, expected ${expected}`);
        return undefined;
      }
      return messageFromJson(schema, ts.value ?? {});
    }
  } catch (e) {
    ctx.report(path, `cannot decode ${expected}: ${(e as Error).message}`);
    return undefined;
  }
  ctx.report(path, `expected ${expected}, got ${any.typeUrl || '(empty type_url)'}`);
  return undefined;
}

/** A required typed_config; its absence is reported (other config types, like ECDS, by the field policies). */
export function requireTyped(
  ctx: DecodeContext,
  config: { case: 'typedConfig'; value: Any } | { case: string | undefined; value?: unknown },
  path: string,
): Any | undefined {
  if (config.case === 'typedConfig') return config.value as Any;
  if (config.case === undefined) ctx.report(at(path, 'typed_config'), 'typed_config is required');
  return undefined;
}

export function snake(localName: string): string {
  return localName.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
