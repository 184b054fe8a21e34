// EnvoyFilter patches, applied while the config is built (HTTP filters, routes, vhosts, clusters), as Istio does.

import {
  type DescMessage,
  type JsonObject,
  type JsonValue,
  type MessageShape,
  mergeFromJson,
} from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import type { EnvoyConfigObjectPatch, EnvoyFilter, EnvoyFilterPatchContext } from '../../api/types/index.js';
import { anyFromJson, messageFromJson, unpackAny } from '../../xds/any.js';
import { type Cluster, ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import {
  type Route,
  RouteSchema,
  VirtualHostSchema,
} from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import {
  type RouteConfiguration,
  RouteConfigurationSchema,
} from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import {
  type HttpFilter,
  HttpFilterSchema,
} from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { xdsRegistry } from '../../xds/registry.js';
import type { MeshIndex } from '../index/mesh-index.js';
import { envoyFiltersFor } from '../index/workload-policies.js';
import type { MeshProxy } from './proxy.js';

export type PatchContext = Exclude<EnvoyFilterPatchContext, 'ANY'>;

export interface PatchSite {
  context: PatchContext;
  /** Listener port (outbound), workload port (inbound), server port (gateway). */
  port: number;
  listenerName?: string;
}

export interface BoundPatch {
  patch: EnvoyConfigObjectPatch;
  filter: EnvoyFilter;
}

/** The patches of every EnvoyFilter that applies to the proxy, in application order. */
export function patchesFor(index: MeshIndex, proxy: MeshProxy): BoundPatch[] {
  const filters = envoyFiltersFor(index.config, proxy, index.mesh.rootNamespace);
  return filters.flatMap((filter) => filter.spec.configPatches.map((patch) => ({ patch, filter })));
}

function contextMatches(patch: EnvoyConfigObjectPatch, site: { context: PatchContext }): boolean {
  const c = patch.match?.context ?? 'ANY';
  return c === 'ANY' || c === site.context;
}

/** Istio converts a TypedStruct's value into the real type when it knows it, so the data plane gets a typed config. */
function normalizeTypedConfig(json: JsonValue): JsonValue {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return json;
  const obj = json as JsonObject;
  const type = obj['@type'];
  if (
    type === 'type.googleapis.com/udpa.type.v1.TypedStruct' ||
    type === 'type.googleapis.com/xds.type.v3.TypedStruct'
  ) {
    const typeUrl = String(obj.type_url ?? obj.typeUrl ?? '');
    const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
    if (xdsRegistry.getMessage(name)) return { '@type': typeUrl, ...((obj.value as JsonObject) ?? {}) };
  }
  return json;
}

function httpFilterFromPatch(value: Record<string, unknown> | undefined): HttpFilter {
  const v = { ...(value ?? {}) } as JsonObject;
  const tc = v.typed_config ?? v.typedConfig;
  delete v.typed_config;
  delete v.typedConfig;
  const filter = messageFromJson(HttpFilterSchema, v);
  if (tc !== undefined)
    filter.configType = { case: 'typedConfig', value: anyFromJson(normalizeTypedConfig(tc as JsonValue)) };
  return filter;
}

function refersTo(patch: EnvoyConfigObjectPatch, filter: HttpFilter): boolean {
  const sub = patch.match?.listener?.filterChain?.filter?.subFilter?.name;
  return sub === undefined || sub === filter.name;
}

function listenerMatches(patch: EnvoyConfigObjectPatch, site: PatchSite): boolean {
  const l = patch.match?.listener;
  if (!l) return true;
  if (l.portNumber !== undefined && l.portNumber !== site.port) return false;
  if (l.name !== undefined && site.listenerName !== undefined && l.name !== site.listenerName) return false;
  const f = l.filterChain?.filter?.name;
  if (f !== undefined && f !== 'envoy.filters.network.http_connection_manager') return false;
  return true;
}

/** Applies HTTP_FILTER patches to one HCM's filter list (the router stays last, as Envoy requires). */
export function patchHttpFilters(
  filters: HttpFilter[],
  patches: readonly BoundPatch[],
  site: PatchSite,
): HttpFilter[] {
  let list = [...filters];
  for (const { patch } of patches) {
    if (patch.applyTo !== 'HTTP_FILTER' || !contextMatches(patch, site) || !listenerMatches(patch, site))
      continue;
    const op = patch.patch.operation;
    const hasSub = patch.match?.listener?.filterChain?.filter?.subFilter?.name !== undefined;
    const at = list.findIndex((f) => refersTo(patch, f));
    switch (op) {
      case 'INSERT_FIRST':
        list.unshift(httpFilterFromPatch(patch.patch.value));
        break;
      case 'ADD':
        list.splice(Math.max(0, list.length - 1), 0, httpFilterFromPatch(patch.patch.value));
        break;
      case 'INSERT_BEFORE':
        if (at >= 0) list.splice(at, 0, httpFilterFromPatch(patch.patch.value));
        else if (!hasSub) list.unshift(httpFilterFromPatch(patch.patch.value));
        break;
      case 'INSERT_AFTER':
        if (at >= 0)
          list.splice(Math.min(at + 1, list.length - 1), 0, httpFilterFromPatch(patch.patch.value));
        break;
      case 'REMOVE':
        if (hasSub) list = list.filter((f) => !refersTo(patch, f));
        break;
      case 'REPLACE':
        if (at >= 0 && hasSub) list[at] = httpFilterFromPatch(patch.patch.value);
        break;
      case 'MERGE':
        if (at >= 0 && hasSub) list[at] = mergeHttpFilter(list[at]!, patch.patch.value);
        break;
      default:
        break;
    }
  }
  return list;
}

function mergeHttpFilter(f: HttpFilter, value: Record<string, unknown> | undefined): HttpFilter {
  const tc = (value?.typed_config ?? value?.typedConfig) as JsonObject | undefined;
  if (!tc || f.configType.case !== 'typedConfig') return f;
  const inner = unpackAny(f.configType.value);
  if (!inner) return f;
  const schema = xdsRegistry.getMessage(inner.$typeName);
  if (!schema) return f;
  const patchJson = normalizeTypedConfig(tc) as JsonObject;
  const { '@type': _ignored, ...fields } = patchJson;
  mergeFromJson(schema, inner, fields, { registry: xdsRegistry });
  return { ...f, configType: { case: 'typedConfig', value: anyPack(schema, inner) } };
}

/** MERGE patches onto an already built message (route, vhost, route configuration, cluster), proto-merge semantics. */
export function mergeInto<D extends DescMessage>(
  schema: D,
  target: MessageShape<D>,
  value: Record<string, unknown> | undefined,
): void {
  if (!value) return;
  mergeFromJson(schema, target, normalizeJson(value), { registry: xdsRegistry });
}

export { contextMatches };

function routeConfigMatches(patch: EnvoyConfigObjectPatch, rc: RouteConfiguration, site: PatchSite): boolean {
  const m = patch.match?.routeConfiguration;
  if (!m) return true;
  if (m.portNumber !== undefined && m.portNumber !== site.port) return false;
  if (m.name !== undefined && m.name !== rc.name) return false;
  return true;
}

function routeActionKind(r: Route): string {
  switch (r.action.case) {
    case 'route':
      return 'ROUTE';
    case 'redirect':
      return 'REDIRECT';
    case 'directResponse':
      return 'DIRECT_RESPONSE';
    default:
      return 'ANY';
  }
}

/** ROUTE_CONFIGURATION / VIRTUAL_HOST / HTTP_ROUTE patches on a built route configuration. */
export function patchRouteConfiguration(
  rc: RouteConfiguration,
  patches: readonly BoundPatch[],
  site: PatchSite,
): void {
  for (const { patch } of patches) {
    if (!contextMatches(patch, site) || !routeConfigMatches(patch, rc, site)) continue;
    const vhostMatch = patch.match?.routeConfiguration?.vhost;
    const op = patch.patch.operation;
    if (patch.applyTo === 'ROUTE_CONFIGURATION' && op === 'MERGE') {
      mergeInto(RouteConfigurationSchema, rc, patch.patch.value);
      continue;
    }
    if (patch.applyTo === 'VIRTUAL_HOST') {
      if (op === 'ADD' && patch.patch.value) {
        rc.virtualHosts.push(messageFromJson(VirtualHostSchema, normalizeJson(patch.patch.value)));
      } else if (op === 'REMOVE') {
        rc.virtualHosts = rc.virtualHosts.filter(
          (v) => vhostMatch?.name !== undefined && v.name !== vhostMatch.name,
        );
      } else if (op === 'MERGE') {
        for (const v of rc.virtualHosts)
          if (vhostMatch?.name === undefined || v.name === vhostMatch.name)
            mergeInto(VirtualHostSchema, v, patch.patch.value);
      }
      continue;
    }
    if (patch.applyTo === 'HTTP_ROUTE') {
      for (const v of rc.virtualHosts) {
        if (vhostMatch?.name !== undefined && v.name !== vhostMatch.name) continue;
        const rm = vhostMatch?.route;
        const selected = (r: Route) =>
          (rm?.name === undefined || r.name === rm.name) &&
          (rm?.action === undefined || rm.action === 'ANY' || rm.action === routeActionKind(r));
        if (op === 'MERGE') {
          for (const r of v.routes) if (selected(r)) mergeInto(RouteSchema, r, patch.patch.value);
        } else if (op === 'REMOVE') v.routes = v.routes.filter((r) => !selected(r));
        else if (op === 'INSERT_FIRST' && patch.patch.value)
          v.routes.unshift(messageFromJson(RouteSchema, normalizeJson(patch.patch.value)));
        else if (op === 'ADD' && patch.patch.value)
          v.routes.push(messageFromJson(RouteSchema, normalizeJson(patch.patch.value)));
      }
    }
  }
}

/** CLUSTER patches: MERGE/REMOVE by service, port, subset or name; ADD appends a cluster. */
export function patchClusters(
  clusters: Cluster[],
  patches: readonly BoundPatch[],
  context: PatchContext,
): Cluster[] {
  let list = clusters;
  for (const { patch } of patches) {
    if (patch.applyTo !== 'CLUSTER' || !contextMatches(patch, { context })) continue;
    const m = patch.match?.cluster;
    const selected = (c: Cluster) => {
      if (!m) return true;
      if (m.name !== undefined && c.name !== m.name) return false;
      const [dir, port, subset, host] = c.name.split('|');
      if (m.portNumber !== undefined && Number(port) !== m.portNumber) return false;
      if (m.subset !== undefined && subset !== m.subset) return false;
      if (m.service !== undefined && (dir !== 'outbound' || host !== m.service)) return false;
      return true;
    };
    const op = patch.patch.operation;
    if (op === 'ADD' && patch.patch.value)
      list = [...list, messageFromJson(ClusterSchema, normalizeJson(patch.patch.value))];
    else if (op === 'REMOVE') list = list.filter((c) => !selected(c));
    else if (op === 'MERGE') {
      for (const c of list) if (selected(c)) mergeInto(ClusterSchema, c, patch.patch.value);
    }
  }
  return list;
}

function normalizeJson(value: Record<string, unknown>): JsonObject {
  return JSON.parse(JSON.stringify(value), (_k, v) =>
    v && typeof v === 'object' && '@type' in v ? normalizeTypedConfig(v) : v,
  ) as JsonObject;
}
