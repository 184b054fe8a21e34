// Envoy response flags as bits of one number per request, joined once per distinct combination in Envoy's order.

/** Envoy's flags in the order `%RESPONSE_FLAGS%` prints them (ResponseFlagUtils). */
const ORDER = [
  'LH',
  'UH',
  'UT',
  'LR',
  'UR',
  'UF',
  'UC',
  'UO',
  'NR',
  'DI',
  'FI',
  'RL',
  'UAEX',
  'RLSE',
  'DC',
  'URX',
  'SI',
  'IH',
  'DPE',
  'UMSDR',
  'RFCF',
  'NFCF',
  'DT',
  'UPE',
  'NC',
  'OM',
  'DF',
  'DO',
  'DR',
  'UDO',
] as const;

export type ResponseFlag = (typeof ORDER)[number];

const BIT = new Map<string, number>(ORDER.map((f, i) => [f, 2 ** i]));

/** The bit of a flag; unknown flags (a newer core) map to 0 and are dropped rather than thrown. */
export function flagBit(flag: string): number {
  return BIT.get(flag) ?? 0;
}

export const FLAG = Object.freeze(Object.fromEntries(BIT)) as Readonly<Record<ResponseFlag, number>>;

// Requests carry few distinct combinations: cache their strings so a record costs no join.
const joined = new Map<number, string>([[0, '-']]);

/** `UF,URX` for a bit set, `-` for none (Envoy's and Istio's empty value). */
export function flagsString(bits: number): string {
  let s = joined.get(bits);
  if (s === undefined) {
    const parts: string[] = [];
    for (let i = 0; i < ORDER.length; i++) if ((bits & (2 ** i)) !== 0) parts.push(ORDER[i]!);
    s = parts.join(',');
    if (joined.size < 4096) joined.set(bits, s);
  }
  return s;
}

/** True when `bits` holds `flag`. */
export function hasFlag(bits: number, flag: ResponseFlag): boolean {
  return (bits & FLAG[flag]) !== 0;
}
