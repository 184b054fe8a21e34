// PromQL label matchers (=, !=, =~, !~) shared by the local store and the PromQL renderer.

export interface LabelMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export const eq = (name: string, value: string): LabelMatcher => ({ name, op: '=', value });
export const ne = (name: string, value: string): LabelMatcher => ({ name, op: '!=', value });
export const re = (name: string, value: string): LabelMatcher => ({ name, op: '=~', value });

const regexCache = new Map<string, RegExp>();

function anchored(pattern: string): RegExp {
  let r = regexCache.get(pattern);
  if (!r) {
    // PromQL regexes are fully anchored RE2; the subset we emit is valid JS too.
    r = new RegExp(`^(?:${pattern})$`);
    regexCache.set(pattern, r);
  }
  return r;
}

export function matches(labels: Readonly<Record<string, string>>, m: LabelMatcher): boolean {
  const v = labels[m.name] ?? '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return anchored(m.value).test(v);
    case '!~':
      return !anchored(m.value).test(v);
  }
}

export function matchesAll(labels: Readonly<Record<string, string>>, ms: readonly LabelMatcher[]): boolean {
  for (const m of ms) if (!matches(labels, m)) return false;
  return true;
}

/** `name{a="x",b=~"y"}` with PromQL string escaping. */
export function renderSelector(metric: string, ms: readonly LabelMatcher[]): string {
  if (ms.length === 0) return metric;
  const inner = ms.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`).join(',');
  return `${metric}{${inner}}`;
}
