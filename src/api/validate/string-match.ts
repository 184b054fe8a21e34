// Istio's StringMatch (`exact`, `prefix` or `regex` in RE2), as used in HTTP matches and CORS origins.

import type { FieldPath } from '../messages.js';
import {
  custom,
  type Field,
  isPlainObject,
  object,
  opt,
  report,
  type Schema,
  str,
} from '../schema/schema.js';
import type { StringMatch } from '../types/networking.js';
import { re2 } from './common.js';

interface StringMatchFields {
  exact?: string;
  prefix?: string;
  regex?: string;
}

// Compile-time guard: every StringMatch variant fits the fields checked here.
const _fits: (m: StringMatch) => StringMatchFields = (m) => m;
void _fits;

const fields = {
  exact: opt(str()),
  prefix: opt(str()),
  regex: opt(re2()),
} satisfies Record<keyof StringMatchFields, Field<string>>;

const shape = object<StringMatchFields>(fields, { oneOf: [['exact', 'prefix', 'regex']] });

export interface StringMatchOptions {
  /** `uri: {prefix: ""}` is allowed (Envoy's route prefix); other matches need a non-empty prefix. */
  allowEmptyPrefix?: boolean;
  /** `{}` means "present" for header and query parameter matches. */
  allowPresence?: boolean;
}

export function stringMatch(opts: StringMatchOptions = {}): Schema<StringMatch> {
  return custom('a string match ({exact}, {prefix} or {regex})', (v, path: FieldPath, ctx) => {
    if (!shape.check(v, path, ctx)) return false;
    const m = v as StringMatchFields;
    const set = (['exact', 'prefix', 'regex'] as const).filter((k) => m[k] !== undefined && isPlainObject(v));
    if (set.length === 0) {
      if (opts.allowPresence) return true;
      report(ctx, path, 'must set one of exact, prefix or regex', { code: 'MissingField' });
      return true;
    }
    if (m.prefix === '' && !opts.allowEmptyPrefix) {
      report(ctx, [...path, 'prefix'], 'prefix must not be empty');
    }
    return true;
  });
}

/** Header and query parameter matches: a StringMatch, or `{}` for "present". */
export function presenceOrMatch(): Schema<StringMatch | Record<string, never>> {
  return stringMatch({ allowPresence: true }) as Schema<StringMatch | Record<string, never>>;
}
