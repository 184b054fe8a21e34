// Envoy's metadata matcher over the request's dynamic metadata (JWT claims, RBAC shadow results, ...).

import type { MetadataMatcher } from '../config/model.js';
import type { DynamicMetadata, MetadataValue } from './context.js';

/** The value at `path` under `filter`, or undefined when any step is missing or not a struct. */
export function metadataValue(
  metadata: DynamicMetadata,
  filter: string,
  path: readonly string[],
): MetadataValue | undefined {
  let value: MetadataValue | undefined = metadata.get(filter);
  for (let i = 0; i < path.length; i++) {
    if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
      return undefined;
    }
    value = (value as { readonly [key: string]: MetadataValue })[path[i]!];
  }
  return value;
}

/** Compiles a matcher into a predicate over dynamic metadata (Envoy's `Matchers::MetadataMatcher`). */
export function compileMetadataMatcher(m: MetadataMatcher): (metadata: DynamicMetadata) => boolean {
  const { filter, path, invert } = m;
  let test: (v: MetadataValue | undefined) => boolean;
  const spec = m.value;
  switch (spec.kind) {
    case 'string': {
      const match = spec.match;
      test = (v) => typeof v === 'string' && match.test(v);
      break;
    }
    case 'listOneOf': {
      const match = spec.match;
      test = (v) => {
        if (!Array.isArray(v)) return false;
        for (const item of v as readonly MetadataValue[]) {
          if (typeof item === 'string' && match.test(item)) return true;
        }
        return false;
      };
      break;
    }
    case 'present':
      test = (v) => v !== undefined;
      break;
    case 'bool': {
      const want = spec.value;
      test = (v) => v === want;
      break;
    }
  }
  return (metadata) => test(metadataValue(metadata, filter, path)) !== invert;
}
