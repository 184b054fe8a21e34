// ext_authz over gRPC: the CheckRequest attributes Envoy sends and how a CheckResponse is applied.

import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { HeaderValueOption } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import { AttributeContextSchema } from '../../../xds/gen/envoy/service/auth/v3/attribute_context_pb.js';
import {
  type CheckRequest,
  CheckRequestSchema,
  type CheckResponse,
} from '../../../xds/gen/envoy/service/auth/v3/external_auth_pb.js';
import type { RequestContext } from '../context.js';
import { emptyEdits, type HeaderValue } from '../header-edits.js';
import type { CheckVerdict } from './http-check.js';

/** Facts about the request that are not in the security context. */
export interface CheckRequestInfo {
  /** `x-request-id`. */
  requestId?: string;
  /** `http` or `https`. */
  scheme?: string;
  /** `HTTP/1.1` or `HTTP/2`. */
  protocol?: string;
  sourcePort?: number;
  /** The sidecar's own SPIFFE ID (`destination.principal`). */
  localPrincipal?: string;
  /** Request body size when known. */
  size?: number;
}

const PROTECTED = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);

function socketAddress(address: string, port: number) {
  return {
    address: {
      case: 'socketAddress' as const,
      value: { address, portSpecifier: { case: 'portValue' as const, value: port } },
    },
  };
}

/**
 * `envoy.service.auth.v3.CheckRequest` as Envoy fills it: source and destination with their principals
 * (the peer's URI SAN and the sidecar's own), the HTTP request with every header (pseudo-headers included,
 * repeated headers joined with `,`), the full path, host, scheme and protocol, and the SNI.
 */
export function buildCheckRequest(ctx: RequestContext, info: CheckRequestInfo, nowMs: number): CheckRequest {
  const headers: Record<string, string> = {
    ':authority': ctx.authority,
    ':method': ctx.method,
    ':path': ctx.path,
  };
  if (info.scheme) headers[':scheme'] = info.scheme;
  for (const name of ctx.headers.names()) {
    const values = ctx.headers.values(name);
    if (values && !name.startsWith(':')) headers[name] = values.join(',');
  }
  const attributes = create(AttributeContextSchema, {
    source: {
      address: socketAddress(ctx.remoteIp, info.sourcePort ?? 0),
      principal: ctx.peer?.uriSans[0] ?? '',
    },
    destination: {
      address: socketAddress(ctx.destinationIp, ctx.destinationPort),
      principal: info.localPrincipal ?? '',
    },
    request: {
      time: timestampFromMs(nowMs),
      http: {
        id: info.requestId ?? '',
        method: ctx.method,
        headers,
        path: ctx.path,
        host: ctx.authority,
        scheme: info.scheme ?? 'http',
        size: BigInt(info.size ?? -1),
        protocol: info.protocol ?? 'HTTP/1.1',
      },
    },
    tlsSession: ctx.requestedServerName ? { sni: ctx.requestedServerName } : undefined,
  });
  return create(CheckRequestSchema, { attributes });
}

function headerOf(o: HeaderValueOption): HeaderValue | undefined {
  if (!o.header) return undefined;
  const name = o.header.key.toLowerCase();
  // Pseudo-headers and framing decide where and how the request goes: never the authorization service's call.
  if (!name || name.startsWith(':') || PROTECTED.has(name)) return undefined;
  return { name, value: o.header.value || new TextDecoder().decode(o.header.rawValue) };
}

/**
 * A CheckResponse: status OK allows (with `ok_response` header changes: `append: true` appends, otherwise
 * the header is set; `headers_to_remove` removes), anything else denies with `denied_response` (403 when it
 * names no status).
 */
export function readCheckResponse(res: CheckResponse): CheckVerdict {
  if ((res.status?.code ?? 0) === 0) {
    const edits = emptyEdits();
    const responseHeaders: HeaderValue[] = [];
    if (res.httpResponse.case === 'okResponse') {
      const ok = res.httpResponse.value;
      for (const name of ok.headersToRemove) {
        const n = name.toLowerCase();
        if (!n.startsWith(':') && !PROTECTED.has(n)) edits.remove.push(n);
      }
      for (const o of ok.headers) {
        const h = headerOf(o);
        if (h) (o.append === true ? edits.append : edits.set).push(h);
      }
      for (const o of ok.responseHeadersToAdd) {
        const h = headerOf(o);
        if (h) responseHeaders.push(h);
      }
    }
    return { kind: 'ok', edits, responseHeaders };
  }
  const denied = res.httpResponse.case === 'deniedResponse' ? res.httpResponse.value : undefined;
  const code = denied?.status?.code ?? 0;
  const responseHeaders: HeaderValue[] = [];
  for (const o of denied?.headers ?? []) {
    const h = headerOf(o);
    if (h) responseHeaders.push(h);
  }
  return {
    kind: 'denied',
    status: code >= 200 && code <= 599 ? code : 403,
    body: denied?.body ?? '',
    responseHeaders,
  };
}
