// Fields written without a value (`match:` with nothing after it) are absent, as Kubernetes reads them.

import type { FieldPath } from '../messages.js';
import { isPlainObject } from '../schema/schema.js';

/**
 * A copy of `v` without object properties whose value is null. List items that are null are kept (they are
 * errors, reported by validation). `onDrop` hears the path of each dropped property.
 */
export function dropNullFields<T>(v: T, onDrop?: (path: FieldPath) => void, at: FieldPath = []): T {
  if (Array.isArray(v)) return v.map((x, i) => dropNullFields(x, onDrop, [...at, i])) as T;
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null) onDrop?.([...at, k]);
    else out[k] = dropNullFields(x, onDrop, [...at, k]);
  }
  return out as T;
}
