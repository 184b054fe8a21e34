// A route/RBAC header matcher compiled from its data form, with Envoy's rules for missing and repeated headers.

import type { HeaderLookup, HeaderMatcher } from '../model.js';

export type HeaderMatcherSpec = Omit<HeaderMatcher, 'matches'>;

/** Envoy's absl::SimpleAtoi: optional whitespace and sign around decimal digits. */
const INTEGER = /^\s*[+-]?\d+\s*$/;

/**
 * Envoy's HeaderUtility::matchHeaders for one matcher. The lookup returns a repeated header's values joined
 * with "," (getAllOfHeaderAsString), so an exact match cannot be satisfied by one value among several. A
 * missing header fails every value matcher, inverted or not, unless `treatMissingAsEmpty`; a presence matcher
 * decides on presence alone. Range bounds are JavaScript numbers (exact up to 2^53).
 */
export function compileHeaderMatcher(spec: HeaderMatcherSpec): HeaderMatcher {
  const { name, kind, invert, treatMissingAsEmpty } = spec;
  let test: (v: string) => boolean;
  if (kind === 'present') {
    const present = spec.present ?? true;
    test = () => present;
  } else if (kind === 'range') {
    const { start, end } = spec.range ?? { start: 0, end: 0 };
    test = (v) => {
      if (!INTEGER.test(v)) return false;
      const n = Number(v.trim());
      return n >= start && n < end;
    };
  } else {
    const m = spec.match;
    test = m ? m.test : () => false;
  }
  const isPresent = kind === 'present';
  const presentWanted = spec.present ?? true;
  const whenMissing = invert ? isPresent && presentWanted : isPresent && !presentWanted;
  const matches = (header: HeaderLookup): boolean => {
    const value = header(name);
    if (value === undefined) return treatMissingAsEmpty ? test('') !== invert : whenMissing;
    return test(value) !== invert;
  };
  return { ...spec, matches };
}
