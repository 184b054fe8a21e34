// Writing API responses: JSON (gzip when large and accepted), and errors as {error: {code, message}}.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { errorMessage, isTrellisError } from '../../shared/errors.js';
import type { BatchMessage, ErrorBody } from './types.js';

/** Below this, compression costs more than it saves. */
const GZIP_MIN_BYTES = 4096;

export function acceptsGzip(req: IncomingMessage): boolean {
  const accept = req.headers['accept-encoding'];
  if (typeof accept !== 'string') return false;
  return accept.split(',').some((part) => {
    const [name, ...params] = part.trim().split(';');
    if (name?.trim().toLowerCase() !== 'gzip') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

export function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = Buffer.from(`${JSON.stringify(body ?? null)}\n`, 'utf8');
  const out: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    vary: 'accept-encoding',
    ...headers,
  };
  let payload = text;
  if (text.length >= GZIP_MIN_BYTES && acceptsGzip(req)) {
    payload = gzipSync(text);
    out['content-encoding'] = 'gzip';
  }
  out['content-length'] = String(payload.length);
  res.writeHead(status, out);
  res.end(payload);
}

function isBatchMessages(v: unknown): v is BatchMessage[] {
  return (
    Array.isArray(v) &&
    v.every((m) => typeof m === 'object' && m !== null && 'message' in m && 'level' in m && 'code' in m)
  );
}

export function errorBody(e: unknown): ErrorBody {
  if (isTrellisError(e)) {
    const body: ErrorBody = { error: { code: e.code, message: e.message } };
    const messages = e.details?.messages;
    if (isBatchMessages(messages)) body.error.messages = messages;
    return body;
  }
  return { error: { code: 'INTERNAL', message: `internal error: ${errorMessage(e)}` } };
}

/** Maps an error code to an HTTP status; codes that end in _NOT_FOUND are 404 wherever they come from. */
export function statusForError(e: unknown): number {
  if (!isTrellisError(e)) return 500;
  const byCode: Record<string, number> = {
    API_BAD_REQUEST: 400,
    API_FORBIDDEN: 403,
    API_NOT_FOUND: 404,
    API_METHOD_NOT_ALLOWED: 405,
    API_PAYLOAD_TOO_LARGE: 413,
    API_UNSUPPORTED_MEDIA_TYPE: 415,
    API_UNAVAILABLE: 503,
  };
  if (byCode[e.code]) return byCode[e.code]!;
  if (e.code.endsWith('_NOT_FOUND')) return 404;
  const status = e.details?.status;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

export function sendError(req: IncomingMessage, res: ServerResponse, e: unknown, status?: number): void {
  sendJson(req, res, status ?? statusForError(e), errorBody(e));
}
