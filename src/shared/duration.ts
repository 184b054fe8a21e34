// Durations as Istio's YAML writes them (Go syntax: `1.5s`, `500ms`, `1m30s`) and as protobuf JSON writes them.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/** Parses a duration to milliseconds; returns undefined when the text is not a valid duration. */
export function parseDuration(text: string): number | undefined {
  if (typeof text !== 'string') return undefined;
  let rest = text.trim();
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  let total = 0;
  let parts = 0;
  while (rest.length > 0) {
    const m = PART.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2]!] ?? Number.NaN);
    rest = rest.slice(m[0].length);
    parts++;
  }
  if (parts === 0 || !Number.isFinite(total)) return undefined;
  return negative ? -total : total;
}

/** Like parseDuration, but throws a message naming the bad text. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`invalid duration "${text}": expected e.g. "1.5s", "500ms" or "1m"`);
  return ms;
}

/** Milliseconds to protobuf JSON duration text ("1.500s"). */
export function formatProtoDuration(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(9).replace(/0+$/, '')}s`;
}

/** Milliseconds to protobuf Duration fields. */
export function toProtoDuration(ms: number): { seconds: bigint; nanos: number } {
  const whole = Math.floor(ms / 1000);
  return { seconds: BigInt(whole), nanos: Math.round((ms - whole * 1000) * 1e6) };
}

/** Protobuf Duration fields to milliseconds. */
export function fromProtoDuration(d: { seconds: bigint; nanos: number } | undefined): number | undefined {
  if (!d) return undefined;
  return Number(d.seconds) * 1000 + d.nanos / 1e6;
}

/** Short human form for messages and tables: `250ms`, `1.5s`, `2m`. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms * 100) / 100}ms`;
  if (ms < 60_000) return `${Math.round(ms / 10) / 100}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 600) / 100}m`;
  return `${Math.round(ms / 36_000) / 100}h`;
}
