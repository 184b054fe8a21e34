// A parser for the Prometheus text exposition format (0.0.4): what the scraper reads from every target.

import { TrellisError } from '../../shared/errors.js';

export interface ParsedSample {
  /** Full sample name (`foo_bucket`, `foo_sum`, ...). */
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds, when the line carried a timestamp. */
  timestampMs?: number;
}

export interface ParsedExposition {
  samples: ParsedSample[];
  /** Metric family name -> type from `# TYPE` lines. */
  types: Map<string, string>;
  help: Map<string, string>;
}

function parseNumber(text: string, line: number): number {
  switch (text) {
    case 'NaN':
      return Number.NaN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
  }
  const v = Number(text);
  if (text === '' || Number.isNaN(v)) {
    throw new TrellisError('TELEMETRY_PARSE', `line ${line}: "${text}" is not a number`);
  }
  return v;
}

function unescapeHelp(s: string): string {
  return s.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** Parses exposition text; a malformed line throws a TrellisError naming the line number. */
export function parsePrometheusText(text: string): ParsedExposition {
  const samples: ParsedSample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const lineNo = n + 1;
    if (line === '' || /^\s*$/.test(line)) continue;
    if (line[0] === '#') {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)\s?(.*)$/.exec(line);
      if (m) {
        if (m[1] === 'TYPE') types.set(m[2]!, m[3]!.trim());
        else help.set(m[2]!, unescapeHelp(m[3]!));
      }
      continue;
    }
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ' && line[i] !== '\t') i++;
    const name = line.slice(0, i);
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) {
      throw new TrellisError('TELEMETRY_PARSE', `line ${lineNo}: invalid metric name "${name}"`);
    }
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      for (;;) {
        while (line[i] === ' ' || line[i] === ',') i++;
        if (line[i] === '}') {
          i++;
          break;
        }
        const start = i;
        while (i < line.length && /[a-zA-Z0-9_]/.test(line[i]!)) i++;
        const label = line.slice(start, i);
        while (line[i] === ' ') i++;
        if (!label || line[i] !== '=' || line[i + 1] !== '"') {
          throw new TrellisError(
            'TELEMETRY_PARSE',
            `line ${lineNo}: malformed label set near column ${i + 1}`,
          );
        }
        i += 2;
        let value = '';
        for (;;) {
          const c = line[i];
          if (c === undefined)
            throw new TrellisError('TELEMETRY_PARSE', `line ${lineNo}: unterminated label value`);
          if (c === '"') {
            i++;
            break;
          }
          if (c === '\\') {
            const e = line[i + 1];
            value += e === 'n' ? '\n' : e === '"' ? '"' : e === '\\' ? '\\' : `\\${e ?? ''}`;
            i += 2;
            continue;
          }
          value += c;
          i++;
        }
        labels[label] = value;
      }
    }
    const rest = line.slice(i).trim().split(/\s+/);
    if (rest.length === 0 || rest[0] === '') {
      throw new TrellisError('TELEMETRY_PARSE', `line ${lineNo}: sample "${name}" has no value`);
    }
    const sample: ParsedSample = { name, labels, value: parseNumber(rest[0]!, lineNo) };
    if (rest[1] !== undefined) sample.timestampMs = parseNumber(rest[1], lineNo);
    samples.push(sample);
  }
  return { samples, types, help };
}
