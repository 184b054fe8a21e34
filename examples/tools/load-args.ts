// Parses fortio's load flags (`-c 3 -qps 0 -n 30 -H 'k: v' -json out.json URL`), single or double dash.

import { parseGoDuration } from './go-duration.js';

export interface LoadArgs {
  url: string;
  /** Connections, each sending its requests one after another (fortio's "threads"). */
  concurrency: number;
  /** Total queries per second over all connections; 0 means as fast as possible. */
  qps: number;
  /** Exact number of calls; when absent the run lasts `durationMs`. */
  calls: number | undefined;
  durationMs: number;
  headers: [string, string][];
  /** `-payload`: send this body with POST. */
  payload: string | undefined;
  contentType: string | undefined;
  /** Per-request timeout (fortio's -timeout, 3 s by default). */
  timeoutMs: number;
  /** `-json FILE` (or `-` for stdout). */
  json: string | undefined;
  percentiles: number[];
  insecure: boolean;
  quiet: boolean;
}

export class LoadUsageError extends Error {}

const VALUE_FLAGS = new Set([
  'c',
  'qps',
  'n',
  't',
  'H',
  'json',
  'payload',
  'content-type',
  'timeout',
  'p',
  'loglevel',
  'labels',
  'a',
]);
const BOOL_FLAGS = new Set(['quiet', 'k', 'allow-initial-errors', 'stdclient', 'keepalive', 'h2']);

export function parseLoadArgs(argv: readonly string[]): LoadArgs {
  const a: LoadArgs = {
    url: '',
    concurrency: 4,
    qps: 8,
    calls: undefined,
    durationMs: 5000,
    headers: [],
    payload: undefined,
    contentType: undefined,
    timeoutMs: 3000,
    json: undefined,
    percentiles: [50, 75, 90, 99, 99.9],
    insecure: false,
    quiet: false,
  };
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    if (BOOL_FLAGS.has(name)) {
      if (name === 'quiet') a.quiet = true;
      if (name === 'k') a.insecure = true;
      continue;
    }
    if (!VALUE_FLAGS.has(name)) throw new LoadUsageError(`flag provided but not defined: -${name}`);
    const value = eq === -1 ? argv[++i] : body.slice(eq + 1);
    if (value === undefined) throw new LoadUsageError(`flag needs an argument: -${name}`);
    applyFlag(a, name, value);
  }
  if (positionals.length !== 1) throw new LoadUsageError('expecting exactly one URL');
  a.url = /^[a-z][a-z0-9+.-]*:\/\//i.test(positionals[0]!) ? positionals[0]! : `http://${positionals[0]}`;
  return a;
}

function applyFlag(a: LoadArgs, name: string, value: string): void {
  const int = (min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new LoadUsageError(`invalid value "${value}" for flag -${name}`);
    return n;
  };
  const duration = () => {
    const ms = parseGoDuration(value);
    if (ms === undefined) throw new LoadUsageError(`invalid duration "${value}" for flag -${name}`);
    return ms;
  };
  switch (name) {
    case 'c':
      a.concurrency = int(1);
      return;
    case 'qps': {
      const q = Number(value);
      if (!Number.isFinite(q)) throw new LoadUsageError(`invalid value "${value}" for flag -qps`);
      // fortio: 0 or negative means no pacing.
      a.qps = Math.max(q, 0);
      return;
    }
    case 'n':
      a.calls = int(1);
      return;
    case 't':
      a.durationMs = duration();
      return;
    case 'timeout':
      a.timeoutMs = duration();
      return;
    case 'H': {
      const colon = value.indexOf(':');
      if (colon <= 0) throw new LoadUsageError(`invalid header "${value}": expected "Name: value"`);
      a.headers.push([value.slice(0, colon).trim(), value.slice(colon + 1).trim()]);
      return;
    }
    case 'json':
      a.json = value;
      return;
    case 'payload':
      a.payload = value;
      return;
    case 'content-type':
      a.contentType = value;
      return;
    case 'p':
      a.percentiles = value.split(',').map((p) => {
        const n = Number(p.trim());
        if (!(n > 0 && n <= 100)) throw new LoadUsageError(`invalid percentile "${p}"`);
        return n;
      });
      return;
    // Accepted for compatibility with fortio command lines, without effect.
    default:
      return;
  }
}
