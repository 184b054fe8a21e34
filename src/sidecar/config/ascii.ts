// ASCII-only case folding, as Envoy's matchers use (absl::AsciiStrToLower): non-ASCII letters never fold.

/** The string with A–Z lowered; returns the same string (no allocation) when it has no ASCII capitals. */
export function asciiLower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return lowerFrom(s, i);
  }
  return s;
}

function lowerFrom(s: string, start: number): string {
  let out = s.slice(0, start);
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : s[i];
  }
  return out;
}

/** Whether `s` starts with `lowerPrefix` (already lower-case), comparing ASCII letters without case. */
export function startsWithIgnoreCase(s: string, lowerPrefix: string, offset = 0): boolean {
  if (s.length - offset < lowerPrefix.length) return false;
  for (let i = 0; i < lowerPrefix.length; i++) {
    let c = s.charCodeAt(offset + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lowerPrefix.charCodeAt(i)) return false;
  }
  return true;
}

export function equalsIgnoreCase(s: string, lower: string): boolean {
  return s.length === lower.length && startsWithIgnoreCase(s, lower);
}

export function endsWithIgnoreCase(s: string, lowerSuffix: string): boolean {
  return (
    s.length >= lowerSuffix.length && startsWithIgnoreCase(s, lowerSuffix, s.length - lowerSuffix.length)
  );
}
