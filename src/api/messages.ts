// Problems found in configuration: one structured type for validation and analysis, and how to print it.

import { formatRef, type ResourceRef, type SourcePosition } from './types/meta.js';

/** `Kind namespace/name`, or `Kind name` for cluster-scoped kinds (Namespace). */
export function describeRef(ref: ResourceRef): string {
  return ref.namespace ? formatRef(ref) : `${ref.kind} ${ref.name}`;
}

export type Severity = 'error' | 'warning' | 'info';

/** A path into a resource, e.g. ['spec', 'http', 0, 'route', 1, 'weight']. */
export type FieldPath = readonly (string | number)[];

export interface ConfigMessage {
  severity: Severity;
  /** Stable code: a validation code such as `UnknownField`, or an analyzer code such as `IST0101`. */
  code: string;
  message: string;
  /** Where the problem is; absent for resources that did not come from a file. */
  position?: SourcePosition;
  resource?: ResourceRef;
  /** Dotted field path, e.g. `spec.http[0].route[1].weight`; empty when the whole resource is meant. */
  path?: string;
  /** A suggested fix, when one is known. */
  fix?: string;
}

/** Validation codes (analyzers use Istio's IST codes and Trellis's TRL codes, see analyze/codes.ts). */
export const ValidationCode = {
  ReadError: 'ReadError',
  YamlSyntax: 'YAMLSyntaxError',
  NotAnObject: 'NotAnObject',
  UnknownKind: 'UnknownKind',
  UnservedVersion: 'UnservedVersion',
  UnknownField: 'UnknownField',
  WrongType: 'WrongType',
  MissingField: 'MissingField',
  InvalidValue: 'InvalidValue',
  Deprecated: 'Deprecated',
  Ignored: 'IgnoredField',
  DuplicateResource: 'DuplicateResource',
} as const;

export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

export function formatPosition(p: SourcePosition | undefined): string {
  if (!p) return '';
  return p.line > 0 ? `${p.file}:${p.line}:${p.col}` : p.file;
}

/**
 * One line per message: `file:line:col: Kind namespace/name: field.path: message`, as compilers print, so
 * editors and terminals can jump to the spot. Warnings and infos say so after the position.
 */
export function formatMessage(m: ConfigMessage): string {
  const parts: string[] = [];
  const where = formatPosition(m.position);
  if (where) parts.push(where);
  if (m.severity !== 'error') parts.push(m.severity);
  if (m.resource) parts.push(describeRef(m.resource));
  if (m.path) parts.push(m.path);
  parts.push(m.message + (m.fix ? ` (fix: ${m.fix})` : ''));
  return parts.join(': ');
}

export function hasErrors(messages: readonly ConfigMessage[]): boolean {
  return messages.some((m) => m.severity === 'error');
}

/** Orders messages by file, line and column so that output reads top to bottom. */
export function sortMessages(messages: readonly ConfigMessage[]): ConfigMessage[] {
  return [...messages].sort((a, b) => {
    const fa = a.position?.file ?? '';
    const fb = b.position?.file ?? '';
    if (fa !== fb) return fa < fb ? -1 : 1;
    return (
      (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.col ?? 0) - (b.position?.col ?? 0)
    );
  });
}
