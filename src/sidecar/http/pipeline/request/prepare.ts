// The connection manager's request processing, in Envoy's order, before any filter sees the request.

import type { Tracer } from '../../../../telemetry/trace/tracer.js';
import { pickWeightedCluster } from '../../../config/match/weighted.js';
import type { HcmConfig } from '../../../config/model.js';
import type { RouteProvider } from '../../../runtime/contracts.js';
import { localReply, type ProxyRequest, type ProxyResponse } from '../../message.js';
import { isGrpcContentType } from '../grpc.js';
import { pipelineReply } from '../local-reply.js';
import type { XfccBuilder } from '../options.js';
import { lookupRoute } from '../router/route-lookup.js';
import type { PipelineStream } from '../stream.js';
import type { PeerMetadataCache } from '../telemetry/metadata-exchange.js';
import { forwardedFacts } from './forwarded.js';
import type { PathNormalizer } from './path-types.js';
import { sanitizeRequestHeaders } from './sanitize.js';
import { HeaderScan } from './scan.js';

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

// The steps run synchronously, one request at a time: one scan object serves every request.
const scan = new HeaderScan();

const NO_XFF: readonly string[] = Object.freeze([]);

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
  const h = scan.read(headers);
  s.grpc = isGrpcContentType(h.contentType);

  // istio/proxy's downstream discovery: read the peer's metadata before sanitizing removes it.
  if (conn.direction === 'inbound' && (h.peerMetadata !== undefined || h.peerMetadataId !== undefined)) {
    s.peerHeadersReceived = true;
    if (h.peerMetadata !== undefined) s.downstreamPeer = env.peerCache.get(h.peerMetadata);
    s.downstreamPeerKey = h.peerMetadataId ?? h.peerMetadata ?? '';
  }

  const facts = forwardedFacts({
    xff: h.xff > 0 ? headers.getAll('x-forwarded-for') : NO_XFF,
    remoteAddress: conn.remoteAddress,
    useRemoteAddress: hcm.useRemoteAddress,
    trustedHops: hcm.xffNumTrustedHops,
  });
  s.clientAddress = facts.clientAddress;
  s.internal = facts.internal;
  if (facts.xff !== undefined) {
    if (h.xff > 0) headers.set('x-forwarded-for', facts.xff);
    else headers.appendTrusted('x-forwarded-for', facts.xff);
  }
  // Envoy trusts internal requests; a sidecar also trusts its own app and verified mesh peers.
  s.trusted =
    facts.internal || conn.direction === 'outbound' || (conn.direction === 'inbound' && conn.meshPeer);
  const edge = hcm.useRemoteAddress && !facts.internal;
  if (h.control) sanitizeRequestHeaders(headers, { trusted: s.trusted, edge });
  s.envoyControl = h.control && s.trusted && !edge;
  if (facts.internal) headers.set('x-envoy-internal', 'true');
  else if (h.envoyInternal && s.trusted && !edge) headers.remove('x-envoy-internal');
  if (edge) headers.set('x-envoy-external-address', facts.clientAddress);
  const proto = conn.tls ? 'https' : 'http';
  if (!h.forwardedProto) headers.appendTrusted('x-forwarded-proto', proto);
  else if (hcm.xffNumTrustedHops === 0) headers.set('x-forwarded-proto', proto);

  let requestId = h.requestId;
  if (
    hcm.generateRequestId &&
    (requestId === undefined || requestId === '' || (!facts.internal && !hcm.preserveExternalRequestId))
  ) {
    requestId = env.requestId();
    if (h.requestId === undefined) headers.appendTrusted('x-request-id', requestId);
    else headers.set('x-request-id', requestId);
  }
  s.requestId = requestId;

  const incomingXfcc = h.clientCert ? headers.getAll('x-forwarded-client-cert') : undefined;
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
    const route = lookupRoute(table, req, s);
    if (route?.action.kind === 'route') s.clusterChoice = pickWeightedCluster(route.action, env.random);
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
    const traceCtx = h.traceHeaders();
    s.traceHeadersReceived = h.trace !== undefined;
    s.span =
      conn.direction === 'outbound'
        ? tracer.startClientSpan({ headers: traceCtx, operation })
        : tracer.startServerSpan({ headers: traceCtx, operation });
  }
  return undefined;
}
