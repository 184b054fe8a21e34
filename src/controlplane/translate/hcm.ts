// The HttpConnectionManager of every HTTP filter chain: codec, filters in Envoy order, path normalization, telemetry.

import { create } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import type { RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { CorsSchema } from '../../xds/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { HTTPFaultSchema } from '../../xds/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { RouterSchema } from '../../xds/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import {
  HttpConnectionManager_CodecType,
  HttpConnectionManager_ForwardClientCertDetails,
  HttpConnectionManager_PathWithEscapedSlashesAction,
  HttpConnectionManagerSchema,
  type HttpFilter,
  HttpFilterSchema,
} from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { MeshIndex } from '../index/mesh-index.js';
import { adsConfigSource, ms, typed } from './envoy.js';
import { type BoundPatch, type PatchContext, patchHttpFilters } from './envoy-filter.js';
import { CORS_FILTER, FAULT_FILTER } from './http-route.js';
import type { MeshProxy } from './proxy.js';
import { type Direction, hcmTelemetry } from './telemetry.js';

export const HCM_FILTER = 'envoy.filters.network.http_connection_manager';
export const ROUTER_FILTER = 'envoy.filters.http.router';

export interface HcmOptions {
  index: MeshIndex;
  proxy: MeshProxy;
  direction: Direction;
  statPrefix: string;
  route: { rds: string } | { inline: RouteConfiguration };
  /** The port EnvoyFilter patches match on (listener, workload or server port). */
  port: number;
  listenerName: string;
  patches: readonly BoundPatch[];
  /** Authentication/authorization filters that run before everything else (inbound and gateways). */
  securityFilters?: HttpFilter[];
}

function filter(name: string, config: Any): HttpFilter {
  return create(HttpFilterSchema, { name, configType: { case: 'typedConfig', value: config } });
}

function normalization(index: MeshIndex) {
  switch (index.mesh.pathNormalization?.normalization ?? 'BASE') {
    case 'NONE':
      return { normalizePath: false, mergeSlashes: false };
    case 'MERGE_SLASHES':
      return { normalizePath: true, mergeSlashes: true };
    case 'DECODE_AND_MERGE_SLASHES':
      return {
        normalizePath: true,
        mergeSlashes: true,
        pathWithEscapedSlashesAction: HttpConnectionManager_PathWithEscapedSlashesAction.UNESCAPE_AND_FORWARD,
      };
    default:
      return { normalizePath: true, mergeSlashes: false };
  }
}

const CONTEXT: Record<Direction, PatchContext> = {
  inbound: 'SIDECAR_INBOUND',
  outbound: 'SIDECAR_OUTBOUND',
  gateway: 'GATEWAY',
};

export function httpFilters(opts: HcmOptions): HttpFilter[] {
  const list: HttpFilter[] = [...(opts.securityFilters ?? [])];
  // Faults and CORS act on the client side (outbound and gateways), configured per route.
  if (opts.direction !== 'inbound') {
    list.push(filter(FAULT_FILTER, typed(HTTPFaultSchema, {})), filter(CORS_FILTER, typed(CorsSchema, {})));
  }
  list.push(filter(ROUTER_FILTER, typed(RouterSchema, {})));
  return patchHttpFilters(list, opts.patches, {
    context: CONTEXT[opts.direction],
    port: opts.port,
    listenerName: opts.listenerName,
  });
}

export function buildHcm(opts: HcmOptions): Any {
  const { index, direction } = opts;
  const telemetry = hcmTelemetry(index, opts.proxy, direction);
  return typed(HttpConnectionManagerSchema, {
    statPrefix: opts.statPrefix,
    codecType: HttpConnectionManager_CodecType.AUTO,
    routeSpecifier:
      'rds' in opts.route
        ? { case: 'rds', value: { configSource: adsConfigSource(), routeConfigName: opts.route.rds } }
        : { case: 'routeConfig', value: opts.route.inline },
    httpFilters: httpFilters(opts),
    useRemoteAddress: direction === 'gateway',
    xffNumTrustedHops: 0,
    forwardClientCertDetails:
      direction === 'outbound'
        ? HttpConnectionManager_ForwardClientCertDetails.SANITIZE
        : HttpConnectionManager_ForwardClientCertDetails.SANITIZE_SET,
    setCurrentClientCertDetails:
      direction === 'outbound' ? undefined : { subject: true, uri: true, dns: true },
    generateRequestId: true,
    preserveExternalRequestId: direction !== 'gateway',
    ...normalization(index),
    streamIdleTimeout: ms(3_600_000),
    upgradeConfigs: [{ upgradeType: 'websocket' }],
    maxRequestHeadersKb: 60,
    commonHttpProtocolOptions: { maxHeadersCount: 100, idleTimeout: ms(3_600_000) },
    http2ProtocolOptions: { maxConcurrentStreams: 2147483647 },
    serverName: 'istio-envoy',
    accessLog: telemetry.accessLog,
    tracing: telemetry.tracing,
    delayedCloseTimeout: ms(1000),
  });
}
