// The security engines' view of one pipeline request: a RequestContext per stream, shared by its security filters.

import type { DynamicMetadata, RequestContext, RequestHeaders } from '../../../security/context.js';
import type { HeaderList } from '../../headers.js';
import type { ExchangeContext, ProxyRequest } from '../../message.js';
import { type PipelineStream, streamOf } from '../stream.js';
import { peerCertificateOf } from './peer.js';

/**
 * The request's own header list, read live: the edits one security filter makes (a token removed, claim or
 * ext_authz headers added) are what the next one sees, as in Envoy, with no copy in between.
 */
class HeaderListView implements RequestHeaders {
  #list: HeaderList;
  #scheme: string;

  constructor(req: ProxyRequest) {
    this.#list = req.headers;
    this.#scheme = req.scheme;
  }

  /** Filters may hand the next layer a modified copy of the request: follow the one being filtered. */
  follow(req: ProxyRequest): void {
    this.#list = req.headers;
    this.#scheme = req.scheme;
  }

  values(name: string): readonly string[] | undefined {
    const lower = name.toLowerCase();
    // `:scheme` is a pseudo-header the transport keeps outside the header list; RBAC may match on it.
    if (lower === ':scheme') return [this.#scheme];
    const all = this.#list.getAll(lower);
    return all.length === 0 ? undefined : all;
  }

  names(): Iterable<string> {
    const out = new Set<string>();
    this.#list.forEach((_value, name) => {
      out.add(name);
    });
    return out;
  }
}

interface SecurityState {
  ctx: RequestContext;
  headers: HeaderListView;
}

// Keyed by the stream so the pipeline's per-request state needs no security field; gone with the stream.
const states = new WeakMap<PipelineStream, SecurityState>();

/**
 * The context for `req`, created by the first security filter of the request and brought up to date by each
 * later one. Its dynamic metadata is shared: jwt_authn writes `istio_authn` for RBAC, a shadow RBAC filter
 * writes the CUSTOM decision ext_authz reads. The path is the one the connection manager normalized; the
 * remote IP is the client address the HCM trusted from `x-forwarded-for`.
 */
export function requestContextOf(s: PipelineStream, req: ProxyRequest): RequestContext {
  const state = states.get(s);
  if (state !== undefined) {
    state.headers.follow(req);
    const ctx = state.ctx;
    ctx.method = req.method;
    ctx.path = req.path;
    ctx.authority = req.authority;
    return ctx;
  }
  const conn = s.conn.downstream;
  const headers = new HeaderListView(req);
  const ctx: RequestContext = {
    directRemoteIp: s.conn.remoteAddress,
    remoteIp: s.clientAddress || s.conn.remoteAddress,
    destinationIp: conn.destination.address,
    destinationPort: conn.destination.port,
    requestedServerName: conn.tls?.sni ?? '',
    peer: peerCertificateOf(conn),
    metadata: new Map(),
    method: req.method,
    path: req.path,
    authority: req.authority,
    headers,
  };
  states.set(s, { ctx, headers });
  return ctx;
}

/**
 * The dynamic metadata the security filters wrote for a request (`istio_authn`, `envoy.filters.http.rbac`,
 * `envoy.common`...), for access logs and tests; undefined when no security filter ran.
 */
export function dynamicMetadataOf(ctx: ExchangeContext): DynamicMetadata | undefined {
  const s = streamOf(ctx);
  return s === undefined ? undefined : states.get(s)?.ctx.metadata;
}
