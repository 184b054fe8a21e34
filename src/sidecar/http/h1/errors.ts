// The one error an HTTP/1.1 parse can end in: what was wrong, and the status a server answers with.

import { TrellisError } from '../../../shared/errors.js';

/**
 * A message the codec refuses. `status` is what a server replies (400, or 431 for oversize heads); on the
 * client side the same error means the upstream sent something unframeable (Envoy's UPE).
 */
export class HttpParseError extends TrellisError {
  readonly status: number;

  constructor(status: number, message: string) {
    super(status === 431 ? 'HTTP_HEADERS_TOO_LARGE' : 'HTTP_MALFORMED', message);
    this.name = 'HttpParseError';
    this.status = status;
  }
}

export function malformed(message: string): HttpParseError {
  return new HttpParseError(400, message);
}

export function tooLarge(message: string): HttpParseError {
  return new HttpParseError(431, message);
}
