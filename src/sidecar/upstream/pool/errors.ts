// Upstream failures as distinct codes, each with the Envoy response flag the router reports for it.

import { TrellisError } from '../../../shared/errors.js';

/** Envoy response flags (docs/xds-contract.md §8) a transport failure maps to. */
export type UpstreamFlag = 'UF' | 'UC' | 'UR' | 'UT' | 'LR' | 'DC' | 'UPE';

/**
 * `code` says what happened; `flag` is the Envoy flag to record; `responseStarted` tells a router whether a
 * retry could still be invisible to the client.
 *
 * | code | flag | meaning |
 * |---|---|---|
 * | UPSTREAM_CONNECT_FAILURE | UF | TCP connect or TLS handshake failed (refused, unreachable, bad cert) |
 * | UPSTREAM_CONNECT_TIMEOUT | UF | connect (and TLS handshake) took longer than connectTimeoutMs |
 * | UPSTREAM_RESET_BEFORE_RESPONSE | UC (HTTP/1.1 connection), UR (HTTP/2 stream reset) | no response head yet |
 * | UPSTREAM_RESET_AFTER_RESPONSE_START | UC / UR | the response body broke off |
 * | UPSTREAM_PROTOCOL_ERROR | UPE | the upstream sent something unframeable |
 * | UPSTREAM_REQUEST_TIMEOUT | UT | the caller's signal aborted with a TimeoutError (AbortSignal.timeout) |
 * | UPSTREAM_DOWNSTREAM_GONE | DC | the caller's signal aborted because the downstream disconnected |
 * | UPSTREAM_LOCAL_RESET | LR | the caller aborted for another reason, or the pool was closed |
 */
export type UpstreamErrorCode =
  | 'UPSTREAM_CONNECT_FAILURE'
  | 'UPSTREAM_CONNECT_TIMEOUT'
  | 'UPSTREAM_RESET_BEFORE_RESPONSE'
  | 'UPSTREAM_RESET_AFTER_RESPONSE_START'
  | 'UPSTREAM_PROTOCOL_ERROR'
  | 'UPSTREAM_REQUEST_TIMEOUT'
  | 'UPSTREAM_DOWNSTREAM_GONE'
  | 'UPSTREAM_LOCAL_RESET';

export class UpstreamError extends TrellisError {
  declare readonly code: UpstreamErrorCode;
  readonly flag: UpstreamFlag;
  readonly responseStarted: boolean;
  /** `host:port` of the upstream endpoint. */
  readonly endpoint: string;

  constructor(init: {
    code: UpstreamErrorCode;
    flag: UpstreamFlag;
    endpoint: string;
    message: string;
    responseStarted?: boolean;
    cause?: unknown;
  }) {
    super(init.code, init.message, { endpoint: init.endpoint }, { cause: init.cause });
    this.name = 'UpstreamError';
    this.flag = init.flag;
    this.responseStarted = init.responseStarted ?? false;
    this.endpoint = init.endpoint;
  }
}

export function isUpstreamError(e: unknown, code?: UpstreamErrorCode): e is UpstreamError {
  return e instanceof UpstreamError && (code === undefined || e.code === code);
}

/** Maps an AbortSignal's reason to the error an aborted upstream exchange reports. */
export function abortError(endpoint: string, reason: unknown, responseStarted: boolean): UpstreamError {
  const name = (reason as { name?: string } | undefined)?.name;
  const code = (reason as { code?: string } | undefined)?.code;
  const detail = reason instanceof Error ? reason.message : String(reason);
  if (name === 'TimeoutError') {
    return new UpstreamError({
      code: 'UPSTREAM_REQUEST_TIMEOUT',
      flag: 'UT',
      endpoint,
      responseStarted,
      message: `request to ${endpoint} timed out: ${detail}`,
      cause: reason,
    });
  }
  if (code === 'DOWNSTREAM_DISCONNECTED') {
    return new UpstreamError({
      code: 'UPSTREAM_DOWNSTREAM_GONE',
      flag: 'DC',
      endpoint,
      responseStarted,
      message: `request to ${endpoint} abandoned: ${detail}`,
      cause: reason,
    });
  }
  return new UpstreamError({
    code: 'UPSTREAM_LOCAL_RESET',
    flag: 'LR',
    endpoint,
    responseStarted,
    message: `request to ${endpoint} reset locally: ${detail}`,
    cause: reason,
  });
}
