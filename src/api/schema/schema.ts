// A small schema library typed against the API types: a schema for T must name every field of T, no more.

import { type FieldPath, type Severity, ValidationCode } from '../messages.js';
import { didYouMean } from './suggest.js';

export interface Issue {
  severity: Severity;
  code: string;
  path: FieldPath;
  message: string;
  /** Point at the field's key rather than its value (unknown fields). */
  atKey?: boolean;
  fix?: string;
  /** Line and column inside a string field that holds YAML (the mesh config in a ConfigMap). */
  inner?: { line: number; col: number };
}

/** What a check knows about the resource it is in, and where it writes what it finds. */
export interface CheckContext {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly issues: Issue[];
}

export function report(
  ctx: CheckContext,
  path: FieldPath,
  message: string,
  opts: { severity?: Severity; code?: string; atKey?: boolean; fix?: string } = {},
): void {
  ctx.issues.push({
    severity: opts.severity ?? 'error',
    code: opts.code ?? ValidationCode.InvalidValue,
    path,
    message,
    ...(opts.atKey ? { atKey: true } : {}),
    ...(opts.fix ? { fix: opts.fix } : {}),
  });
}

export interface Schema<T> {
  /** Noun phrase for messages: "a string", "an integer 0-100". */
  readonly describe: string;
  /**
   * Checks `value` (never null/undefined). Returns false only when its shape is wrong (a wrong type, a missing
   * required field), so that refinements, which trust the types, are skipped; values that are well-typed but
   * invalid are reported and still return true, so every independent problem is reported at once.
   */
  check(value: unknown, path: FieldPath, ctx: CheckContext): boolean;
  /** Phantom: makes Schema<T> invariant in T, so a schema cannot drift from its type. */
  readonly _type?: (t: T) => T;
  /** Object schemas expose their field names (for suggestions and documentation). */
  readonly fields?: readonly string[];
}

export interface Field<V> {
  readonly required: boolean;
  readonly schema: Schema<V>;
  /** Accepted, with a warning carrying this advice. */
  readonly deprecated?: string;
}

export function req<V>(schema: Schema<V>): Field<V> & { required: true } {
  return { required: true, schema };
}

export function opt<V>(schema: Schema<V>, deprecated?: string): Field<V> & { required: false } {
  return deprecated ? { required: false, schema, deprecated } : { required: false, schema };
}

/** One entry per property of T: optional properties take opt(...), required ones req(...). */
export type Fields<T> = {
  [K in keyof T]-?: undefined extends T[K]
    ? Field<Exclude<T[K], undefined>>
    : Field<T[K]> & { required: true };
};

export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  return String(v);
}

function wrongType(ctx: CheckContext, path: FieldPath, describe: string, value: unknown): false {
  report(ctx, path, `must be ${describe}, got ${describeValue(value)}`, { code: ValidationCode.WrongType });
  return false;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A schema whose check is written by hand. */
export function custom<T>(describe: string, check: Schema<T>['check']): Schema<T> {
  return { describe, check };
}

export type Refinement<T> = (value: T, path: FieldPath, ctx: CheckContext) => void;

/** Adds semantic checks that run only once the value has the right shape. */
export function refine<T>(schema: Schema<T>, fn: Refinement<T>): Schema<T> {
  return {
    ...schema,
    check(value, path, ctx) {
      if (!schema.check(value, path, ctx)) return false;
      fn(value as T, path, ctx);
      return true;
    },
  };
}

/**
 * Like refine, but runs even when nested fields have errors, so that independent checks (hosts, say) are
 * reported together with errors deeper down. `fn` must therefore not trust nested shapes.
 */
export function refineAlways<T>(
  schema: Schema<T>,
  fn: (value: Partial<Record<keyof T, unknown>>, path: FieldPath, ctx: CheckContext) => void,
): Schema<T> {
  return {
    ...schema,
    check(value, path, ctx) {
      const ok = schema.check(value, path, ctx);
      if (isPlainObject(value)) fn(value as Partial<Record<keyof T, unknown>>, path, ctx);
      return ok;
    },
  };
}

export function str(opts: { nonEmpty?: boolean; describe?: string } = {}): Schema<string> {
  const describe = opts.describe ?? (opts.nonEmpty ? 'a non-empty string' : 'a string');
  return custom(describe, (v, path, ctx) => {
    if (typeof v !== 'string') return wrongType(ctx, path, describe, v);
    if (opts.nonEmpty && v.length === 0)
      report(ctx, path, `must be ${describe}`, { code: ValidationCode.InvalidValue });
    return true;
  });
}

export function bool(): Schema<boolean> {
  return custom(
    'true or false',
    (v, path, ctx) => typeof v === 'boolean' || wrongType(ctx, path, 'true or false', v),
  );
}

function rangeText(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` ${min}-${max}`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

export function int(opts: { min?: number; max?: number } = {}): Schema<number> {
  const describe = `an integer${rangeText(opts.min, opts.max)}`;
  return custom(describe, (v, path, ctx) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) return wrongType(ctx, path, describe, v);
    if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
      report(ctx, path, `must be ${describe}, got ${v}`);
    }
    return true;
  });
}

export function num(opts: { min?: number; max?: number } = {}): Schema<number> {
  const describe = `a number${rangeText(opts.min, opts.max)}`;
  return custom(describe, (v, path, ctx) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return wrongType(ctx, path, describe, v);
    if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
      report(ctx, path, `must be ${describe}, got ${v}`);
    }
    return true;
  });
}

export function enumOf<const E extends string>(values: readonly E[]): Schema<E> {
  const describe = `one of ${values.join(', ')}`;
  return custom(describe, (v, path, ctx) => {
    if (typeof v !== 'string') return wrongType(ctx, path, describe, v);
    if (!(values as readonly string[]).includes(v)) {
      report(ctx, path, `must be ${describe}, got ${describeValue(v)}${didYouMean(v, values)}`);
    }
    return true;
  });
}

export function arrayOf<V>(item: Schema<V>, opts: { minItems?: number } = {}): Schema<V[]> {
  const describe = `a list of ${item.describe.replace(/^an? /, '')}s`;
  return custom(describe, (v, path, ctx) => {
    if (!Array.isArray(v)) return wrongType(ctx, path, `a list (${describe})`, v);
    let ok = true;
    if (opts.minItems !== undefined && v.length < opts.minItems) {
      report(ctx, path, `must have at least ${opts.minItems} item${opts.minItems === 1 ? '' : 's'}`, {
        code: ValidationCode.MissingField,
      });
    }
    v.forEach((x, i) => {
      if (x === null || x === undefined) {
        report(ctx, [...path, i], `must be ${item.describe}, got nothing`, {
          code: ValidationCode.WrongType,
        });
        ok = false;
      } else if (!item.check(x, [...path, i], ctx)) ok = false;
    });
    return ok;
  });
}

/** A map with string keys (YAML object); `key` checks each key, `value` each value. */
export function mapOf<V>(value: Schema<V>, key?: Schema<string>): Schema<Record<string, V>> {
  const describe = `a map of ${value.describe.replace(/^an? /, '')}s`;
  return custom(describe, (v, path, ctx) => {
    if (!isPlainObject(v)) return wrongType(ctx, path, describe, v);
    let ok = true;
    for (const [k, x] of Object.entries(v)) {
      if (key && !key.check(k, [...path, k], ctx)) ok = false;
      if (x === null || x === undefined) {
        report(ctx, [...path, k], `must be ${value.describe}, got nothing`, {
          code: ValidationCode.WrongType,
        });
        ok = false;
      } else if (!value.check(x, [...path, k], ctx)) ok = false;
    }
    return ok;
  });
}

/** Any object, not looked into (Kubernetes pass-through fields such as `resources`). */
export function anyObject(): Schema<Record<string, unknown>> {
  return custom('an object', (v, path, ctx) => isPlainObject(v) || wrongType(ctx, path, 'an object', v));
}

export function emptyObject(): Schema<Record<string, never>> {
  return custom('an empty object', (v, path, ctx) => {
    if (!isPlainObject(v)) return wrongType(ctx, path, 'an empty object ({})', v);
    for (const k of Object.keys(v)) {
      report(ctx, [...path, k], `unknown field "${k}"; this object takes no fields`, {
        code: ValidationCode.UnknownField,
        atKey: true,
      });
    }
    return true;
  });
}

export function intOrString(): Schema<number | string> {
  return custom('an integer or a name', (v, path, ctx) => {
    if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) return true;
    return wrongType(ctx, path, 'an integer or a name', v);
  });
}

export interface ObjectOptions {
  /** Groups of fields of which at most one may be set (protobuf oneofs). */
  oneOf?: readonly (readonly string[])[];
}

/** An object with exactly the fields of T; unknown fields are errors with a "did you mean" suggestion. */
export function object<T>(fields: Fields<T>, opts: ObjectOptions = {}): Schema<T> {
  const entries = Object.entries(fields) as [string, Field<unknown>][];
  const names = entries.map(([k]) => k);
  return {
    describe: 'an object',
    fields: names,
    check(v, path, ctx) {
      if (!isPlainObject(v)) return wrongType(ctx, path, 'an object', v);
      let ok = true;
      for (const k of Object.keys(v)) {
        if (!(k in fields)) {
          report(ctx, [...path, k], `unknown field "${k}"${didYouMean(k, names)}`, {
            code: ValidationCode.UnknownField,
            atKey: true,
          });
        }
      }
      for (const [k, field] of entries) {
        const x = v[k];
        if (x === undefined || x === null) {
          if (field.required) {
            report(ctx, [...path, k], `required field "${k}" is missing`, {
              code: ValidationCode.MissingField,
            });
            ok = false;
          }
          continue;
        }
        if (field.deprecated) {
          report(ctx, [...path, k], `"${k}" is deprecated: ${field.deprecated}`, {
            severity: 'warning',
            code: ValidationCode.Deprecated,
            atKey: true,
          });
        }
        if (!field.schema.check(x, [...path, k], ctx)) ok = false;
      }
      for (const group of opts.oneOf ?? []) {
        const set = group.filter((k) => v[k] !== undefined && v[k] !== null);
        if (set.length > 1) {
          report(
            ctx,
            [...path, set[1]!],
            `only one of ${group.join(', ')} may be set, got ${set.join(' and ')}`,
            {
              atKey: true,
            },
          );
        }
      }
      return ok;
    },
  };
}
