// A resource read from a file, with the position of each of its fields.

import type { FieldPath } from '../messages.js';
import type { Resource, SourcePosition } from '../types/meta.js';

export interface PositionOptions {
  /** Point at the field's key instead of its value. */
  atKey?: boolean;
  /** A line and column inside the string value at `path` (YAML held in a string, such as the mesh config). */
  inner?: { line: number; col: number };
}

export interface LoadedResource {
  resource: Resource;
  /** Where the resource's document starts. */
  source: SourcePosition;
  /** Where the field at `path` (a path into `resource`, e.g. ['spec', 'http', 0]) is written. */
  positionOf(path: FieldPath, opts?: PositionOptions): SourcePosition;
}

/** A resource that did not come from a file (applied through an API): every position is unknown. */
export function unpositioned(resource: Resource, origin = '<api>'): LoadedResource {
  const source = { file: origin, line: 0, col: 0 };
  return { resource, source, positionOf: () => source };
}
