// Why an HTTP request got no response, classified once so callers (and curl-style exit codes) need not parse Node errors.

/** Why a request produced no HTTP response; each maps to one curl exit code (see tools/curl-exit.ts). */
export type HttpErrorCode =
  | 'BAD_URL'
  | 'DNS_FAILED'
  | 'CONNECT_FAILED'
  | 'TIMEOUT'
  | 'EMPTY_REPLY'
  | 'RESET'
  | 'BAD_RESPONSE'
  | 'TLS_HANDSHAKE'
  | 'TLS_VERIFY'
  | 'PROXY_TUNNEL';

export class HttpRequestError extends Error {
  readonly code: HttpErrorCode;
  readonly url: string;

  constructor(code: HttpErrorCode, message: string, url: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HttpRequestError';
    this.code = code;
    this.url = url;
  }
}

/** What the exchange had reached when it failed; the same Node error means different things before and after. */
export interface ExchangeState {
  tlsDone: boolean;
  headersReceived: boolean;
}

const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Maps a Node error to the failure it stands for, given how far the exchange got. */
export function classify(err: unknown, state: ExchangeState, url: string): HttpRequestError {
  if (err instanceof HttpRequestError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? '';
  const cause = { cause: err };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new HttpRequestError(
      'DNS_FAILED',
      `could not resolve the host of ${url}: ${e.message}`,
      url,
      cause,
    );
  }
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'].includes(code)) {
    return new HttpRequestError('CONNECT_FAILED', `failed to connect for ${url}: ${e.message}`, url, cause);
  }
  if (code === 'ETIMEDOUT') {
    return new HttpRequestError('TIMEOUT', `connecting for ${url} timed out`, url, cause);
  }
  if (TLS_VERIFY_CODES.has(code)) {
    return new HttpRequestError('TLS_VERIFY', `certificate of ${url} not accepted: ${e.message}`, url, cause);
  }
  if (!state.tlsDone || code.startsWith('ERR_SSL') || code === 'EPROTO') {
    return new HttpRequestError(
      'TLS_HANDSHAKE',
      `TLS handshake with ${url} failed: ${e.message}`,
      url,
      cause,
    );
  }
  if (code.startsWith('HPE_')) {
    return new HttpRequestError(
      'BAD_RESPONSE',
      `malformed HTTP response from ${url}: ${e.message}`,
      url,
      cause,
    );
  }
  if (!state.headersReceived && code === 'ECONNRESET' && e.message === 'socket hang up') {
    return new HttpRequestError(
      'EMPTY_REPLY',
      `${url}: server closed the connection without a reply`,
      url,
      cause,
    );
  }
  return new HttpRequestError('RESET', `${url}: connection reset (${e.message})`, url, cause);
}
