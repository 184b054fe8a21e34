// curl's exit codes and messages for the failures the tools report, so scripts written for curl read them unchanged.

import type { HttpErrorCode } from '../shared/http-client.js';

export const CURL_EXIT: Record<HttpErrorCode, number> = {
  BAD_URL: 3,
  DNS_FAILED: 6,
  CONNECT_FAILED: 7,
  BAD_RESPONSE: 8,
  TIMEOUT: 28,
  TLS_HANDSHAKE: 35,
  EMPTY_REPLY: 52,
  RESET: 56,
  PROXY_TUNNEL: 56,
  TLS_VERIFY: 60,
};

/** curl's wording for each failure, e.g. `(7) Failed to connect: ...`. */
const CURL_TEXT: Record<HttpErrorCode, string> = {
  BAD_URL: 'URL using bad/illegal format or missing URL',
  DNS_FAILED: 'Could not resolve host',
  CONNECT_FAILED: 'Failed to connect',
  BAD_RESPONSE: 'Weird server reply',
  TIMEOUT: 'Operation timed out',
  TLS_HANDSHAKE: 'SSL connect error',
  EMPTY_REPLY: 'Empty reply from server',
  RESET: 'Recv failure: Connection reset by peer',
  PROXY_TUNNEL: 'Proxy CONNECT aborted',
  TLS_VERIFY: 'SSL certificate problem',
};

export function curlMessage(code: HttpErrorCode, detail: string): string {
  return `curl: (${CURL_EXIT[code]}) ${CURL_TEXT[code]}: ${detail}`;
}

/** `-f` on an HTTP error status. */
export const CURL_HTTP_ERROR = 22;
/** Bad command line. */
export const CURL_USAGE = 2;
/** Could not write the output file. */
export const CURL_WRITE_ERROR = 23;
