// Envoy filter configs as users write them in EnvoyFilter patches: a typed Any or a TypedStruct.

import type { DescMessage, JsonValue, MessageShape } from '@bufbuild/protobuf';
import { TrellisError } from '../../shared/errors.js';
import { messageFromJson } from '../../xds/any.js';
import { TYPE_PREFIX } from '../../xds/type-urls.js';

const TYPED_STRUCT_TYPES = new Set([
  'type.googleapis.com/udpa.type.v1.TypedStruct',
  'type.googleapis.com/xds.type.v3.TypedStruct',
]);

/**
 * Accepts `{"@type": "<the message type>", ...fields}`, a TypedStruct
 * `{"@type": "type.googleapis.com/udpa.type.v1.TypedStruct", "type_url": ..., "value": {...}}`
 * (Istio's tasks write this), or a whole filter `{name, typed_config}`; returns the message.
 */
export function decodeTypedConfig<D extends DescMessage>(
  json: unknown,
  schema: D,
  where: string,
): MessageShape<D> {
  if (!isObject(json))
    throw new TrellisError('FILTER_CONFIG', `${where}: expected an object, got ${typeof json}`);
  if ('typed_config' in json || 'typedConfig' in json) {
    return decodeTypedConfig(json.typed_config ?? json.typedConfig, schema, `${where}.typed_config`);
  }
  const expected = TYPE_PREFIX + schema.typeName;
  const type = json['@type'];
  if (typeof type !== 'string') throw new TrellisError('FILTER_CONFIG', `${where}: "@type" is missing`);
  let fields: Record<string, unknown>;
  if (TYPED_STRUCT_TYPES.has(type)) {
    const typeUrl = json.type_url ?? json.typeUrl;
    if (typeUrl !== expected) {
      throw new TrellisError(
        'FILTER_CONFIG',
        `${where}: TypedStruct type_url must be ${expected}, got ${String(typeUrl)}`,
      );
    }
    const value = json.value ?? {};
    if (!isObject(value))
      throw new TrellisError('FILTER_CONFIG', `${where}: TypedStruct value must be an object`);
    fields = value;
  } else if (type === expected) {
    const { '@type': _type, ...rest } = json;
    fields = rest;
  } else {
    throw new TrellisError(
      'FILTER_CONFIG',
      `${where}: expected @type ${expected} (or a TypedStruct of it), got ${type}`,
    );
  }
  try {
    return messageFromJson(schema, fields as JsonValue);
  } catch (e) {
    throw new TrellisError('FILTER_CONFIG', `${where}: ${(e as Error).message}`, undefined, { cause: e });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
