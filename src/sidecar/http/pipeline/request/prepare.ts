// The connection manager's request processing, in Envoy's order, before any filter sees the request.

import type { HeaderMap } from '../../../../telemetry/record.js';
import type { Tracer } from '../../../../telemetry/trace/tracer.js';
import type { HcmConfig } from '../../../config/model.js';
import type { RouteProvider } from '../../../runtime/contracts.js';
import type { HeaderList } from '../../headers.js';
import { localReply, type ProxyRequest, type ProxyResponse } from '../../message.js';
import { isGrpcContentType } from '../grpc.js';
import { pipelineReply } from '../local-reply.js';
import type { XfccBuilder } from '../options.js';
import { lookupRoute } from '../router/route-lookup.js';
import { pickWeightedCluster } from '../router/weighted.js';
import type { PipelineStream } from '../stream.js';
import type { PeerMetadataCache } from '../telemetry/metadata-exchange.js';
import { forwardedFacts } from './forwarded.js';
import type { PathNormalizer } from './path-types.js';
import { PEER_METADATA_HEADER, PEER_METADATA_ID_HEADER, sanitizeRequestHeaders } from './sanitize.js';

export interface PrepareEnv {
  hcm: HcmConfig;
  routes: RouteProvider;
  requestId: () => string;
  random: () => number;
  normalizePath: PathNormalizer;
  forwardClientCert: XfccBuilder;
  peerCache: PeerMetadataCache;
  tracer: Tracer | undefined;
}

const NO_XFF: readonly string[] = Object.freeze([]);
const NO_HEADERS: HeaderMap = Object.freeze({});

/** Trace context headers only: the tracer reads no others, and copying every header per request would cost. */
function traceHeaders(headers: HeaderList): HeaderMap {
  let out: Record<string, string> | undefined;
  const n = headers.size;
  for (let i = 0; i < n; i++) {
    const name = headers.nameAt(i);
    const c = name.charCodeAt(0);
    if (c !== 116 /* t */ && c !== 98 /* b */ && c !== 120 /* x */) continue;
    if (name === 'traceparent' || name === 'tracestate' || name === 'b3' || name.startsWith('x-b3-')) {
      if (out === undefined) out = {};
      out[name] ??= headers.valueAt(i);
    }
  }
  return out ?? NO_HEADERS;
}

/**
 * Runs Envoy's HCM request steps: peer metadata (inbound), XFF and the internal judgement, sanitizing,
 * x-envoy-internal / -external-address, x-forwarded-proto, x-request-id, XFCC, path normalization, the
 * upgrade check, then the route (and weighted cluster) and the span. Returns a reply when the request ends
 * here (bad path, refused upgrade), undefined to run the filters.
 */
export function prepareRequest(
  s: PipelineStream,
  req: ProxyRequest,
  env: PrepareEnv,
): ProxyResponse | undefined {
  const hcm = env.hcm;
  const headers = req.headers;
  const conn = s.conn;
  s.grpc = isGrpcContentType(headers.get('content-type'));

  // istio/proxy's downstream discovery: read the peer's metadata before sanitizing removes it.
  if (conn.direction === 'inbound') {
    const value = headers.get(PEER_METADATA_HEADER);
    const id = headers.get(PEER_METADATA_ID_HEADER);
    if (value !== undefined || id !== undefined) {
      s.peerHeadersReceived = true;
      if (value !== undefined) s.downstreamPeer = env.peerCache.get(value);
      s.downstreamPeerKey = id ?? value ?? '';
    }
  }

  const facts = forwardedFacts({
    xff: headers.has('x-forwarded-for') ? headers.getAll('x-forwarded-for') : NO_XFF,
    remoteAddress: conn.remoteAddress,
    useRemoteAddress: hcm.useRemoteAddress,
    trustedHops: hcm.xffNumTrustedHops,
  });
  s.clientAddress = facts.clientAddress;
  s.internal = facts.internal;
  if (facts.xff !== undefined) headers.set('x-forwarded-for', facts.xff);
  // Envoy trusts internal requests; a sidecar also trusts its own app and verified mesh peers.
  s.trusted =
    facts.internal || conn.direction === 'outbound' || (conn.direction === 'inbound' && conn.meshPeer);
  const edge = hcm.useRemoteAddress && !facts.internal;
  sanitizeRequestHeaders(headers, { trusted: s.trusted, edge });
  if (facts.internal) headers.set('x-envoy-internal', 'true');
  else if (headers.has('x-envoy-internal')) headers.remove('x-envoy-internal');
  if (edge) headers.set('x-envoy-external-address', facts.clientAddress);
  if (hcm.xffNumTrustedHops === 0 || !headers.has('x-forwarded-proto')) {
    headers.set('x-forwarded-proto', conn.tls ? 'https' : 'http');
  }

  let requestId = headers.get('x-request-id');
  if (
    hcm.generateRequestId &&
    (requestId === undefined || requestId === '' || (!facts.internal && !hcm.preserveExternalRequestId))
  ) {
    requestId = env.requestId();
    headers.set('x-request-id', requestId);
  }
  s.requestId = requestId;

  const incomingXfcc = headers.has('x-forwarded-client-cert')
    ? headers.getAll('x-forwarded-client-cert')
    : undefined;
  const xfcc = env.forwardClientCert({
    connection: conn.downstream,
    incoming: incomingXfcc,
    mode: hcm.forwardClientCert,
    details: hcm.setCurrentClientCert,
  });
  if (xfcc.action === 'set') headers.set('x-forwarded-client-cert', xfcc.value);
  else if (xfcc.action === 'remove' && incomingXfcc !== undefined) headers.remove('x-forwarded-client-cert');

  if (hcm.normalizePath || hcm.mergeSlashes || hcm.escapedSlashes !== 'keep') {
    const r = env.normalizePath(req.path, hcm);
    if (r.action === 'reject') {
      return pipelineReply(s, {
        status: 400,
        flag: 'DPE',
        reason: `path ${JSON.stringify(req.path.slice(0, 128))} refused by HCM "${hcm.statPrefix}": ${r.reason}`,
        details: 'path_normalization_failed',
      });
    }
    if (r.action === 'redirect') {
      s.details = 'path_redirect';
      return localReply({ status: 307, headers: { location: r.path } });
    }
    req.path = r.path;
  }

  const table = hcm.routeConfig ?? (hcm.rds === undefined ? undefined : env.routes.get(hcm.rds));
  s.table = table;
  if (table !== undefined) {
    const found = lookupRoute(table, req, s.grpc);
    s.vhost = found.vhost;
    s.route = found.route;
    if (found.route?.action.kind === 'route') {
      s.clusterChoice = pickWeightedCluster(found.route.action, env.random);
    }
  }

  if (req.upgrade !== undefined) {
    const protocol = req.upgrade.toLowerCase();
    // Envoy's HTTP/1 codec drops an h2c upgrade offer; the request goes on as plain HTTP/1.1.
    if (protocol === 'h2c') req.upgrade = undefined;
    else {
      const routeAllows = s.route?.action.kind === 'route' && s.route.action.websocket;
      if (protocol !== 'websocket' || !(hcm.websocket || routeAllows)) {
        return pipelineReply(s, {
          status: 403,
          reason: `upgrade to "${req.upgrade}" is not enabled on HCM "${hcm.statPrefix}"${s.route ? ` or route "${s.route.name}"` : ''}`,
          details: 'upgrade_failed',
        });
      }
    }
  }

  const tracer = env.tracer;
  if (tracer !== undefined) {
    const operation = s.route?.decoratorOperation ?? `${req.authority}${req.path.split('?', 1)[0]}`;
    const traceCtx = traceHeaders(headers);
    s.span =
      conn.direction === 'outbound'
        ? tracer.startClientSpan({ headers: traceCtx, operation })
        : tracer.startServerSpan({ headers: traceCtx, operation });
  }
  return undefined;
}
