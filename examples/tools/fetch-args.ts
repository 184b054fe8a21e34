// Parses a curl-style command line (`-sS -o /dev/null -w '%{http_code}' -HHost:x URL`) into fetch options.

export interface FetchArgs {
  url: string;
  method: string | undefined;
  headers: [string, string][];
  data: string | undefined;
  /** `-o FILE`; `-` or undefined is stdout. */
  output: string | undefined;
  writeOut: string | undefined;
  head: boolean;
  include: boolean;
  silent: boolean;
  showError: boolean;
  fail: boolean;
  verbose: boolean;
  followRedirects: boolean;
  insecure: boolean;
  maxTimeMs: number | undefined;
  proxy: string | undefined;
  noProxy: string | undefined;
  cacert: string | undefined;
  cert: string | undefined;
  key: string | undefined;
}

export class UsageError extends Error {}

/** Short options taking a value; others are flags. */
const SHORT_VALUE: Record<string, string> = {
  X: 'request',
  H: 'header',
  d: 'data',
  o: 'output',
  w: 'write-out',
  m: 'max-time',
  A: 'user-agent',
  e: 'referer',
  b: 'cookie',
  u: 'user',
  x: 'proxy',
};
const SHORT_FLAG: Record<string, string> = {
  s: 'silent',
  S: 'show-error',
  I: 'head',
  i: 'include',
  f: 'fail',
  k: 'insecure',
  v: 'verbose',
  L: 'location',
};
const LONG_VALUE = new Set([
  ...Object.values(SHORT_VALUE),
  'data-raw',
  'data-binary',
  'json',
  'noproxy',
  'cacert',
  'cert',
  'key',
]);
const LONG_FLAG = new Set([...Object.values(SHORT_FLAG), 'http1.1', 'compressed']);

/** `readData` resolves `-d @file` (and `@-` for stdin). */
export function parseFetchArgs(argv: readonly string[], readData: (path: string) => string): FetchArgs {
  const a: FetchArgs = {
    url: '',
    method: undefined,
    headers: [],
    data: undefined,
    output: undefined,
    writeOut: undefined,
    head: false,
    include: false,
    silent: false,
    showError: false,
    fail: false,
    verbose: false,
    followRedirects: false,
    insecure: false,
    maxTimeMs: undefined,
    proxy: undefined,
    noProxy: undefined,
    cacert: undefined,
    cert: undefined,
    key: undefined,
  };
  const urls: string[] = [];
  const set = (name: string, value: string | undefined) => apply(a, name, value, readData);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (LONG_FLAG.has(name)) set(name, undefined);
      else if (LONG_VALUE.has(name)) {
        const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
        if (value === undefined) throw new UsageError(`option --${name}: requires parameter`);
        set(name, value);
      } else throw new UsageError(`option --${name}: is unknown`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      // A cluster such as -sSI, or -HHost:x / -XPOST with the value attached.
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j]!;
        if (SHORT_FLAG[c]) set(SHORT_FLAG[c], undefined);
        else if (SHORT_VALUE[c]) {
          const attached = arg.slice(j + 1);
          const value = attached !== '' ? attached : argv[++i];
          if (value === undefined) throw new UsageError(`option -${c}: requires parameter`);
          set(SHORT_VALUE[c], value);
          break;
        } else throw new UsageError(`option -${c}: is unknown`);
      }
    } else urls.push(arg);
  }
  if (urls.length !== 1)
    throw new UsageError(urls.length === 0 ? 'no URL specified' : 'give exactly one URL');
  // curl assumes http:// when the URL has no scheme (`curl httpbin:8000/get`).
  a.url = /^[a-z][a-z0-9+.-]*:\/\//i.test(urls[0]!) ? urls[0]! : `http://${urls[0]}`;
  return a;
}

function apply(a: FetchArgs, name: string, value: string | undefined, readData: (p: string) => string): void {
  const v = value ?? '';
  switch (name) {
    case 'silent':
      a.silent = true;
      return;
    case 'show-error':
      a.showError = true;
      return;
    case 'head':
      a.head = true;
      return;
    case 'include':
      a.include = true;
      return;
    case 'fail':
      a.fail = true;
      return;
    case 'insecure':
      a.insecure = true;
      return;
    case 'verbose':
      a.verbose = true;
      return;
    case 'location':
      a.followRedirects = true;
      return;
    case 'http1.1':
    case 'compressed':
      return;
    case 'request':
      a.method = v.toUpperCase();
      return;
    case 'header': {
      const colon = v.indexOf(':');
      if (colon <= 0) throw new UsageError(`bad header "${v}": expected "Name: value"`);
      a.headers.push([v.slice(0, colon).trim(), v.slice(colon + 1).trim()]);
      return;
    }
    case 'data':
    case 'data-binary':
      a.data = (a.data === undefined ? '' : `${a.data}&`) + (v.startsWith('@') ? readData(v.slice(1)) : v);
      return;
    case 'data-raw':
      a.data = (a.data === undefined ? '' : `${a.data}&`) + v;
      return;
    case 'json':
      a.data = v.startsWith('@') ? readData(v.slice(1)) : v;
      a.headers.push(['Content-Type', 'application/json'], ['Accept', 'application/json']);
      return;
    case 'output':
      a.output = v;
      return;
    case 'write-out':
      a.writeOut = v;
      return;
    case 'max-time': {
      const seconds = Number(v);
      if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError(`bad --max-time "${v}"`);
      a.maxTimeMs = seconds * 1000;
      return;
    }
    case 'user-agent':
      a.headers.push(['User-Agent', v]);
      return;
    case 'referer':
      a.headers.push(['Referer', v]);
      return;
    case 'cookie':
      a.headers.push(['Cookie', v]);
      return;
    case 'user':
      a.headers.push(['Authorization', `Basic ${Buffer.from(v).toString('base64')}`]);
      return;
    case 'proxy':
      a.proxy = v;
      return;
    case 'noproxy':
      a.noProxy = v;
      return;
    case 'cacert':
      a.cacert = v;
      return;
    case 'cert':
      a.cert = v;
      return;
    case 'key':
      a.key = v;
      return;
  }
}
