// gRPC facts the pipeline needs: recognising gRPC requests and answering them the way a gRPC client expects.

import type { HeaderList } from '../headers.js';

/** Envoy's `Grpc::Common::isGrpcRequestHeaders`: `application/grpc` or `application/grpc+<codec>` (`;` params ok). */
export function isGrpcContentType(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType.length < 16) return false;
  if (!contentType.startsWith('application/grpc')) {
    if (contentType.slice(0, 16).toLowerCase() !== 'application/grpc') return false;
  }
  if (contentType.length === 16) return true;
  const c = contentType.charCodeAt(16);
  return c === 43 /* + */ || c === 59 /* ; */;
}

export const GRPC_STATUS = Object.freeze({
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
});

/** Envoy's `Grpc::Utility::httpToGrpcStatus`, used for local replies to gRPC requests. */
export function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400:
      return GRPC_STATUS.INTERNAL;
    case 401:
      return GRPC_STATUS.UNAUTHENTICATED;
    case 403:
      return GRPC_STATUS.PERMISSION_DENIED;
    case 404:
      return GRPC_STATUS.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GRPC_STATUS.UNAVAILABLE;
    default:
      return GRPC_STATUS.UNKNOWN;
  }
}

/** The gRPC status in a header list (trailers-only responses carry it in the head), or undefined. */
export function grpcStatusOf(headers: HeaderList | undefined): number | undefined {
  const v = headers?.get('grpc-status');
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec): everything outside printable ASCII and `%`. */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    if (byte >= 0x20 && byte <= 0x7e && byte !== 0x25) out += String.fromCharCode(byte);
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
