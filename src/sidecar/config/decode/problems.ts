// Every reason a resource cannot be applied, with the field path: the text becomes the NACK's error_detail.

import { TrellisError } from '../../../shared/errors.js';
import { type RegexCompiler, re2Compiler } from '../string-match.js';

export interface Problem {
  /** Field path inside the resource, proto names: `filter_chains[0].filters[0].typed_config`. */
  path: string;
  message: string;
}

export type ResourceKind = 'Listener' | 'RouteConfiguration' | 'Cluster' | 'ClusterLoadAssignment';

/** A resource the sidecar refuses; `message` lists every problem, one per line, naming the resource. */
export class ConfigRejection extends TrellisError {
  readonly kind: ResourceKind;
  readonly resourceName: string;
  readonly problems: readonly Problem[];

  constructor(kind: ResourceKind, resourceName: string, problems: readonly Problem[]) {
    super('XDS_REJECTED', problems.map((p) => formatProblem(kind, resourceName, p)).join('\n'), {
      kind,
      resourceName,
      problems,
    });
    this.name = 'ConfigRejection';
    this.kind = kind;
    this.resourceName = resourceName;
    this.problems = problems;
  }
}

export function formatProblem(kind: ResourceKind, name: string, p: Problem): string {
  return p.path ? `${kind} "${name}": ${p.path}: ${p.message}` : `${kind} "${name}": ${p.message}`;
}

/** What decoders share while walking one resource. */
export interface DecodeContext {
  /** Collects problems instead of stopping at the first, so a NACK names them all. */
  report(path: string, message: string): void;
  /** Problems reported so far, to tell whether a section added any. */
  readonly problemCount: number;
  readonly compileRegex: RegexCompiler;
}

export interface DecodeOptions {
  /**
   * RE2 → JavaScript translation for safe_regex and regex_rewrite. Defaults to JavaScript syntax with
   * Envoy's anchoring; pass `compileRe2` (src/shared/re2.ts) for exact RE2 semantics.
   */
  compileRegex?: RegexCompiler;
}

export class ProblemList implements DecodeContext {
  readonly problems: Problem[] = [];
  readonly compileRegex: RegexCompiler;

  constructor(opts: DecodeOptions = {}) {
    this.compileRegex = opts.compileRegex ?? re2Compiler;
  }

  report(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  get problemCount(): number {
    return this.problems.length;
  }

  /** Throws the rejection when anything was reported. */
  throwIfAny(kind: ResourceKind, name: string): void {
    if (this.problems.length > 0) throw new ConfigRejection(kind, name, this.problems);
  }
}

/** `a.b`, `a[0]`: joins a field path, leaving out empty parts. */
export function at(base: string, field: string | number): string {
  if (typeof field === 'number') return `${base}[${field}]`;
  return base ? `${base}.${field}` : field;
}
