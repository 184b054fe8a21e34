// The request echo httpbin puts in its JSON replies: args, headers (Title-Cased), origin, url, form, data, json.

import type { IncomingMessage } from 'node:http';

/**
 * Headers httpbin hides unless the query has `show_env`: they describe the hosting (and, in a mesh, the
 * sidecar's additions such as x-request-id and x-forwarded-proto), not what the client sent.
 */
const ENV_HEADERS = new Set([
  'x-varnish',
  'x-request-start',
  'x-heroku-queue-depth',
  'x-real-ip',
  'x-forwarded-proto',
  'x-forwarded-protocol',
  'x-forwarded-ssl',
  'x-heroku-queue-wait-time',
  'x-forwarded-for',
  'x-heroku-dynos-in-use',
  'x-forwarded-port',
  'x-request-id',
  'via',
  'total-route-time',
  'connect-time',
]);

export type MultiDict = Record<string, string | string[]>;

/** `x-b3-traceid` → `X-B3-Traceid`, as Werkzeug prints header names. */
export function titleCase(name: string): string {
  return name
    .split('-')
    .map((part) => (part === '' ? part : part[0]!.toUpperCase() + part.slice(1).toLowerCase()))
    .join('-');
}

export function multiDict(params: URLSearchParams): MultiDict {
  const out: MultiDict = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    out[key] = values.length === 1 ? values[0]! : values;
  }
  return out;
}

export function queryOf(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? '/', 'http://httpbin').searchParams;
}

export function headersOf(req: IncomingMessage): Record<string, string> {
  const showEnv = queryOf(req).has('show_env');
  const out: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (!showEnv && ENV_HEADERS.has(lower)) continue;
    const name = titleCase(lower);
    out[name] = out[name] === undefined ? raw[i + 1]! : `${out[name]},${raw[i + 1]}`;
  }
  return out;
}

export function originOf(req: IncomingMessage): string {
  const forwarded = req.headers['x-forwarded-for'];
  if (typeof forwarded === 'string' && forwarded !== '') return forwarded;
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

/** The URL the client asked for, with the scheme a front proxy reports in X-Forwarded-Proto. */
export function urlOf(req: IncomingMessage): string {
  const h = req.headers;
  const proto =
    (h['x-forwarded-proto'] as string | undefined) ??
    (h['x-forwarded-protocol'] as string | undefined) ??
    (h['x-forwarded-ssl'] === 'on' ? 'https' : 'http');
  const target = req.url ?? '/';
  // Through an explicit proxy the request line may already be absolute.
  if (/^https?:\/\//.test(target)) return target;
  return `${proto}://${h.host ?? 'localhost'}${target}`;
}

export interface BodyInfo {
  data: string;
  form: MultiDict;
  files: Record<string, never>;
  json: unknown;
}

/** Interprets a body as httpbin does: forms go to `form`, anything else to `data` (and `json` when it parses). */
export function bodyInfo(req: IncomingMessage, body: Buffer): BodyInfo {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return { data: '', form: multiDict(new URLSearchParams(body.toString('utf8'))), files: {}, json: null };
  }
  const text = body.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(body);
  const data = isText ? text : `data:application/octet-stream;base64,${body.toString('base64')}`;
  let json: unknown = null;
  if (isText && text !== '') {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  return { data, form: {}, files: {}, json };
}
