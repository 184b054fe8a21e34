// ext_authz over HTTP: the check request Envoy builds and how it reads the authorization service's answer.

import type { StringMatch } from '../../config/model.js';
import type { RequestContext } from '../context.js';
import { emptyEdits, type HeaderEdits, type HeaderValue } from '../header-edits.js';
import type { HttpCheckRequest, HttpCheckResponse } from './transport.js';

export interface HttpServiceConfig {
  cluster: string;
  pathPrefix: string;
  timeoutMs: number;
  allowedHeaders: readonly StringMatch[];
  allowedUpstreamHeaders: readonly StringMatch[];
  allowedClientHeaders: readonly StringMatch[];
}

/** Envoy always sends these, whatever `allowed_headers` says. */
const ALWAYS_SENT = new Set(['authorization']);
/** Envoy always returns these to the client on a denial when `allowed_client_headers` is set. */
const ALWAYS_TO_CLIENT = new Set(['www-authenticate', 'location']);
/** Framing and hop-by-hop headers belong to the check response, never to the reply the sidecar writes. */
const NOT_COPIED = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
]);
/** Headers an authorization service may not rewrite: they decide routing and framing. */
const PROTECTED_REQUEST_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);
/** An HTTP authorization service lists headers to drop on success here (comma-separated). */
export const HEADERS_TO_REMOVE_HEADER = 'x-envoy-auth-headers-to-remove';

function anyMatch(list: readonly StringMatch[], name: string): boolean {
  for (const m of list) if (m.test(name)) return true;
  return false;
}

/**
 * The check request: the original method, `path_prefix` + the original path, the original authority as
 * `host`, `content-length: 0`, `authorization`, and the client headers `allowed_headers` selects.
 */
export function buildHttpCheck(config: HttpServiceConfig, ctx: RequestContext): HttpCheckRequest {
  const headers: HeaderValue[] = [{ name: 'host', value: ctx.authority }];
  for (const name of ctx.headers.names()) {
    if (name.startsWith(':') || NOT_COPIED.has(name)) continue;
    if (!ALWAYS_SENT.has(name) && !anyMatch(config.allowedHeaders, name)) continue;
    for (const value of ctx.headers.values(name) ?? []) headers.push({ name, value });
  }
  headers.push({ name: 'content-length', value: '0' });
  return {
    cluster: config.cluster,
    method: ctx.method,
    path: `${config.pathPrefix}${ctx.path}`,
    headers,
    timeoutMs: config.timeoutMs,
  };
}

export type CheckVerdict =
  | { kind: 'ok'; edits: HeaderEdits; responseHeaders: HeaderValue[] }
  | { kind: 'denied'; status: number; body: string; responseHeaders: HeaderValue[] }
  | { kind: 'error'; reason: string };

/**
 * Envoy's `RawHttpClientImpl::toResponse`: 5xx is an error (the failure mode decides), 200 allows and copies
 * `allowed_upstream_headers` onto the request, anything else denies with the service's status and body and
 * the headers `allowed_client_headers` selects (all but `host` when that list is empty).
 */
export function readHttpCheck(config: HttpServiceConfig, res: HttpCheckResponse): CheckVerdict {
  if (res.status >= 500 && res.status <= 599) {
    return { kind: 'error', reason: `the authorization service answered ${res.status}` };
  }
  if (res.status === 200) {
    const edits = emptyEdits();
    for (const h of res.headers) {
      if (h.name === HEADERS_TO_REMOVE_HEADER) {
        for (const name of h.value.split(',')) {
          const n = name.trim().toLowerCase();
          if (n && !n.startsWith(':') && !PROTECTED_REQUEST_HEADERS.has(n)) edits.remove.push(n);
        }
        continue;
      }
      if (PROTECTED_REQUEST_HEADERS.has(h.name) || h.name.startsWith(':')) continue;
      if (anyMatch(config.allowedUpstreamHeaders, h.name)) edits.set.push(h);
    }
    return { kind: 'ok', edits, responseHeaders: [] };
  }
  const all = config.allowedClientHeaders.length === 0;
  const responseHeaders = res.headers.filter(
    (h) =>
      !NOT_COPIED.has(h.name) &&
      (all || ALWAYS_TO_CLIENT.has(h.name) || anyMatch(config.allowedClientHeaders, h.name)),
  );
  return { kind: 'denied', status: res.status, body: res.body.toString('utf8'), responseHeaders };
}
