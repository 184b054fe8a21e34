// EnvoyFilter: patch enums and matches, and the patch value parsed as the Envoy message it patches.

import type { DescMessage, JsonValue } from '@bufbuild/protobuf';
import { messageFromJson } from '../../xds/any.js';
import { BootstrapSchema } from '../../xds/gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { TypedExtensionConfigSchema } from '../../xds/gen/envoy/config/core/v3/extension_pb.js';
import {
  FilterChainSchema,
  FilterSchema,
  ListenerFilterSchema,
} from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteSchema, VirtualHostSchema } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { RouteConfigurationSchema } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { HttpFilterSchema } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { FieldPath } from '../messages.js';
import {
  anyObject,
  arrayOf,
  type CheckContext,
  enumOf,
  int,
  isPlainObject,
  mapOf,
  object,
  opt,
  refine,
  report,
  req,
  type Schema,
  str,
} from '../schema/schema.js';
import type {
  EnvoyConfigObjectMatch,
  EnvoyConfigObjectPatch,
  EnvoyFilterApplyTo,
  EnvoyFilterClusterMatch,
  EnvoyFilterListenerMatch,
  EnvoyFilterRouteConfigurationMatch,
  EnvoyFilterSpec,
} from '../types/networking.js';
import { port, re2, selectorLabels } from './common.js';

const APPLY_TO = [
  'INVALID',
  'LISTENER',
  'FILTER_CHAIN',
  'NETWORK_FILTER',
  'HTTP_FILTER',
  'ROUTE_CONFIGURATION',
  'VIRTUAL_HOST',
  'HTTP_ROUTE',
  'CLUSTER',
  'EXTENSION_CONFIG',
  'BOOTSTRAP',
  'LISTENER_FILTER',
] as const;

const OPERATIONS = [
  'INVALID',
  'MERGE',
  'ADD',
  'REMOVE',
  'INSERT_BEFORE',
  'INSERT_AFTER',
  'INSERT_FIRST',
  'REPLACE',
] as const;

/** The Envoy message each applyTo patches: the patch value must parse as it (Istio's BuildXDSObjectFromStruct). */
const PATCHED_MESSAGE: Record<Exclude<EnvoyFilterApplyTo, 'INVALID'>, DescMessage> = {
  LISTENER: ListenerSchema,
  FILTER_CHAIN: FilterChainSchema,
  NETWORK_FILTER: FilterSchema,
  HTTP_FILTER: HttpFilterSchema,
  ROUTE_CONFIGURATION: RouteConfigurationSchema,
  VIRTUAL_HOST: VirtualHostSchema,
  HTTP_ROUTE: RouteSchema,
  CLUSTER: ClusterSchema,
  EXTENSION_CONFIG: TypedExtensionConfigSchema,
  BOOTSTRAP: BootstrapSchema,
  LISTENER_FILTER: ListenerFilterSchema,
};

const TYPED_STRUCT = new Set([
  'type.googleapis.com/udpa.type.v1.TypedStruct',
  'type.googleapis.com/xds.type.v3.TypedStruct',
]);

/**
 * Istio's docs wrap typed configs in a TypedStruct (`{@type: TypedStruct, type_url, value}`); Envoy reads it as
 * the message named by type_url, so the check unwraps it the same way.
 */
function unwrapTypedStructs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapTypedStructs);
  if (!isPlainObject(v)) return v;
  const type = v['@type'];
  if (typeof type === 'string' && TYPED_STRUCT.has(type)) {
    const url = v.type_url ?? v.typeUrl;
    const inner = isPlainObject(v.value) ? v.value : {};
    return { '@type': url, ...(unwrapTypedStructs(inner) as Record<string, unknown>) };
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapTypedStructs(x)]));
}

/** Path of the first string value equal to `text` inside `v`. */
function findValue(v: unknown, text: string, path: FieldPath): FieldPath | undefined {
  if (v === text) return path;
  const entries: [string | number, unknown][] = Array.isArray(v)
    ? v.map((x, i) => [i, x])
    : isPlainObject(v)
      ? Object.entries(v)
      : [];
  for (const [k, x] of entries) {
    const p = findValue(x, text, [...path, k]);
    if (p) return p;
  }
  return undefined;
}

/** Path of the first key named `key` inside `v`, to point at the culprit of a protobuf JSON error. */
function findKey(v: unknown, key: string, path: FieldPath): FieldPath | undefined {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = findKey(v[i], key, [...path, i]);
      if (p) return p;
    }
  } else if (isPlainObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (k === key) return [...path, k];
      const p = findKey(x, key, [...path, k]);
      if (p) return p;
    }
  }
  return undefined;
}

function checkPatchValue(
  applyTo: EnvoyFilterApplyTo,
  value: Record<string, unknown>,
  path: FieldPath,
  ctx: CheckContext,
): void {
  const schema = (PATCHED_MESSAGE as Partial<Record<string, DescMessage>>)[applyTo];
  if (!schema) return; // INVALID or an unknown applyTo, reported by the enum check
  try {
    messageFromJson(schema, unwrapTypedStructs(value) as JsonValue);
  } catch (e) {
    const text = (e as Error).message;
    const unknownType =
      /"([^"]+)" is not in the type registry|unable to resolve ([\w./-]+)|cannot find message type ([\w.]+)/i.exec(
        text,
      );
    if (unknownType) {
      report(ctx, path, `Trellis cannot check or apply this patch: ${text}`, { severity: 'warning' });
      return;
    }
    const key = /key "([^"]+)" is unknown/.exec(text)?.[1];
    const badValue = /from JSON: "([^"]*)"$/.exec(text)?.[1];
    const at =
      (key && findKey(value, key, path)) ||
      (badValue !== undefined && findValue(value, badValue, path)) ||
      path;
    report(ctx, at, `not a valid Envoy ${schema.typeName} patch: ${text}`, key ? { atKey: true } : {});
  }
}

const listenerMatch = (): Schema<EnvoyFilterListenerMatch> =>
  object<EnvoyFilterListenerMatch>({
    portNumber: opt(port()),
    filterChain: opt(
      object<NonNullable<EnvoyFilterListenerMatch['filterChain']>>({
        name: opt(str()),
        sni: opt(str()),
        transportProtocol: opt(enumOf<string>(['tls', 'raw_buffer'])),
        applicationProtocols: opt(str()),
        filter: opt(
          object<{ name?: string; subFilter?: { name?: string } }>({
            name: opt(str()),
            subFilter: opt(object<{ name?: string }>({ name: opt(str()) })),
          }),
        ),
        destinationPort: opt(port()),
      }),
    ),
    listenerFilter: opt(str()),
    name: opt(str()),
  });

const routeConfigurationMatch = (): Schema<EnvoyFilterRouteConfigurationMatch> =>
  object<EnvoyFilterRouteConfigurationMatch>({
    portNumber: opt(port()),
    portName: opt(str()),
    gateway: opt(str()),
    vhost: opt(
      object<NonNullable<EnvoyFilterRouteConfigurationMatch['vhost']>>({
        name: opt(str()),
        route: opt(
          object<{ name?: string; action?: 'ANY' | 'ROUTE' | 'REDIRECT' | 'DIRECT_RESPONSE' }>({
            name: opt(str()),
            action: opt(enumOf(['ANY', 'ROUTE', 'REDIRECT', 'DIRECT_RESPONSE'])),
          }),
        ),
      }),
    ),
    name: opt(str()),
  });

const clusterMatch = (): Schema<EnvoyFilterClusterMatch> =>
  object<EnvoyFilterClusterMatch>({
    portNumber: opt(port()),
    service: opt(str()),
    subset: opt(str()),
    name: opt(str()),
  });

const match = (): Schema<EnvoyConfigObjectMatch> =>
  object<EnvoyConfigObjectMatch>(
    {
      context: opt(enumOf(['ANY', 'SIDECAR_INBOUND', 'SIDECAR_OUTBOUND', 'GATEWAY'])),
      proxy: opt(
        object<{ proxyVersion?: string; metadata?: Record<string, string> }>({
          proxyVersion: opt(re2()),
          metadata: opt(mapOf(str())),
        }),
      ),
      listener: opt(listenerMatch()),
      routeConfiguration: opt(routeConfigurationMatch()),
      cluster: opt(clusterMatch()),
    },
    { oneOf: [['listener', 'routeConfiguration', 'cluster']] },
  );

const LISTENER_CLASS: EnvoyFilterApplyTo[] = [
  'LISTENER',
  'FILTER_CHAIN',
  'NETWORK_FILTER',
  'HTTP_FILTER',
  'LISTENER_FILTER',
];
const ROUTE_CLASS: EnvoyFilterApplyTo[] = ['ROUTE_CONFIGURATION', 'VIRTUAL_HOST', 'HTTP_ROUTE'];
const HCM = ['envoy.filters.network.http_connection_manager', 'envoy.http_connection_manager'];

const configPatch = (): Schema<EnvoyConfigObjectPatch> =>
  refine(
    object<EnvoyConfigObjectPatch>({
      applyTo: req(enumOf(APPLY_TO)),
      match: opt(match()),
      patch: req(
        object<EnvoyConfigObjectPatch['patch']>({
          operation: req(enumOf(OPERATIONS)),
          value: opt(anyObject()),
          filterClass: opt(enumOf(['UNSPECIFIED', 'AUTHN', 'AUTHZ', 'STATS'])),
        }),
      ),
    }),
    (p, path, ctx) => {
      if (p.applyTo === 'INVALID')
        report(ctx, [...path, 'applyTo'], 'applyTo must name what to patch (e.g. HTTP_FILTER)');
      const op = p.patch.operation;
      if (op === 'INVALID')
        report(
          ctx,
          [...path, 'patch', 'operation'],
          'operation must name the change (e.g. INSERT_BEFORE, MERGE)',
        );
      if (op !== 'REMOVE' && op !== 'INVALID' && !p.patch.value) {
        report(ctx, [...path, 'patch', 'value'], `operation ${op} needs patch.value`, {
          code: 'MissingField',
        });
      }
      const m = p.match;
      if (m?.listener && !LISTENER_CLASS.includes(p.applyTo)) {
        report(ctx, [...path, 'match', 'listener'], `applyTo ${p.applyTo} cannot use a listener match`, {
          atKey: true,
        });
      }
      if (m?.routeConfiguration && !ROUTE_CLASS.includes(p.applyTo)) {
        report(
          ctx,
          [...path, 'match', 'routeConfiguration'],
          `applyTo ${p.applyTo} cannot use a routeConfiguration match`,
          { atKey: true },
        );
      }
      if (m?.cluster && p.applyTo !== 'CLUSTER') {
        report(ctx, [...path, 'match', 'cluster'], `applyTo ${p.applyTo} cannot use a cluster match`, {
          atKey: true,
        });
      }
      const filter = m?.listener?.filterChain?.filter;
      if (filter) {
        const fp = [...path, 'match', 'listener', 'filterChain', 'filter'];
        if (!filter.name) report(ctx, fp, 'a filter match needs a name', { code: 'MissingField' });
        if (filter.subFilter) {
          if (p.applyTo !== 'HTTP_FILTER')
            report(ctx, [...fp, 'subFilter'], 'subFilter can only be used with applyTo HTTP_FILTER', {
              atKey: true,
            });
          if (filter.name && !HCM.includes(filter.name))
            report(ctx, [...fp, 'name'], `subFilter needs the filter match to be ${HCM[0]}`);
          if (!filter.subFilter.name)
            report(ctx, [...fp, 'subFilter'], 'a subFilter match needs a name', { code: 'MissingField' });
        }
      }
      if (p.patch.value) checkPatchValue(p.applyTo, p.patch.value, [...path, 'patch', 'value'], ctx);
    },
  );

export const envoyFilterSpec = (): Schema<EnvoyFilterSpec> =>
  object<EnvoyFilterSpec>({
    workloadSelector: opt(object<{ labels?: Record<string, string> }>({ labels: opt(selectorLabels()) })),
    configPatches: req(arrayOf(configPatch(), { minItems: 1 })),
    priority: opt(int()),
  });
