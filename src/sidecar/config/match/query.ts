// Query strings as Envoy's route matcher reads them: not percent-decoded, the first value of a repeated key wins.

export type QueryParams = ReadonlyMap<string, string>;

const EMPTY: QueryParams = new Map();

/** Envoy's QueryParamsMulti::parseQueryString: everything after the first "?", split on "&", then "=". */
export function parseQuery(path: string): QueryParams {
  const start = path.indexOf('?');
  if (start === -1) return EMPTY;
  const out = new Map<string, string>();
  let i = start + 1;
  while (i < path.length) {
    let amp = path.indexOf('&', i);
    if (amp === -1) amp = path.length;
    if (amp > i) {
      const eq = path.indexOf('=', i);
      const key = eq === -1 || eq > amp ? path.slice(i, amp) : path.slice(i, eq);
      const value = eq === -1 || eq > amp ? '' : path.slice(eq + 1, amp);
      if (!out.has(key)) out.set(key, value);
    }
    i = amp + 1;
  }
  return out;
}
