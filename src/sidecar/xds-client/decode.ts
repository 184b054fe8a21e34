// Decodes and validates the resources of one response; collects every reason to reject rather than the first.

import { fromBinary } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { errorMessage } from '../../shared/errors.js';
import {
  KIND_SCHEMA,
  KIND_TYPE_URL,
  type ProtoResources,
  type ResourceEntry,
  type ResourceKind,
  type ResourceTypes,
  type XdsDecoders,
  type XdsReferences,
} from './types.js';

/** A resource as a response carries it: SotW has only the Any; delta adds name and version. */
export interface WireResource {
  readonly any: Any;
  readonly name?: string;
  readonly version: string;
}

export interface DecodeResult<V> {
  readonly entries: ResourceEntry<V>[];
  /** One line per rejected resource: `cluster "x": reason; reason`. Empty when all are valid. */
  readonly errors: string[];
}

function nameOf(kind: ResourceKind, message: ProtoResources[ResourceKind]): string {
  return kind === 'endpoint'
    ? (message as ProtoResources['endpoint']).clusterName
    : (message as { name: string }).name;
}

export function decodeResources<T extends ResourceTypes, K extends ResourceKind>(opts: {
  kind: K;
  resources: readonly WireResource[];
  decoders: XdsDecoders<T>;
  references: XdsReferences;
  now: number;
}): DecodeResult<T[K]> {
  const { kind } = opts;
  const typeUrl = KIND_TYPE_URL[kind];
  const entries: ResourceEntry<T[K]>[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  opts.resources.forEach((r, index) => {
    const label = r.name !== undefined ? `${kind} "${r.name}"` : `${kind} #${index}`;
    if (r.any.typeUrl !== typeUrl) {
      errors.push(`${label}: type_url is ${r.any.typeUrl || '(empty)'}, expected ${typeUrl}`);
      return;
    }
    let message: ProtoResources[K];
    try {
      message = fromBinary(KIND_SCHEMA[kind], r.any.value) as unknown as ProtoResources[K];
    } catch (e) {
      errors.push(`${label}: malformed ${typeUrl}: ${errorMessage(e)}`);
      return;
    }
    const name = nameOf(kind, message);
    if (!name) {
      errors.push(`${label}: has an empty ${kind === 'endpoint' ? 'cluster_name' : 'name'}`);
      return;
    }
    if (r.name !== undefined && r.name !== name) {
      errors.push(`${label}: the resource inside is named "${name}"`);
      return;
    }
    if (seen.has(name)) {
      errors.push(`${kind} "${name}": appears more than once in one response`);
      return;
    }
    seen.add(name);
    let value: T[K];
    try {
      value = opts.decoders[kind](message);
    } catch (e) {
      errors.push(`${kind} "${name}": ${errorMessage(e)}`);
      return;
    }
    let references: string[] = [];
    try {
      if (kind === 'cluster') references = opts.references.cluster(message as ProtoResources['cluster']);
      else if (kind === 'listener')
        references = opts.references.listener(message as ProtoResources['listener']);
    } catch (e) {
      errors.push(`${kind} "${name}": cannot tell what it references: ${errorMessage(e)}`);
      return;
    }
    entries.push({
      name,
      version: r.version,
      value,
      any: { typeUrl: r.any.typeUrl, value: r.any.value },
      references,
      updatedAt: opts.now,
    });
  });
  return { entries, errors };
}
