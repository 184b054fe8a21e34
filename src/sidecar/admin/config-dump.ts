// `/config_dump`: what the xDS client accepted, as Envoy's ConfigDump in proto3 JSON with proto field names.

import { type JsonObject, type JsonValue, toJson } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { xdsRegistry } from '../../xds/registry.js';
import type { ResourceKind, ResourceState } from '../xds-client/types.js';
import type { AdminContext } from './context.js';

const ADMIN = 'type.googleapis.com/envoy.admin.v3.';
const SECRET_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';
/** Envoy prints private keys as this (base64 of "[redacted]"). */
const REDACTED = Buffer.from('[redacted]').toString('base64');

function resourceJson(r: ResourceState<unknown>): JsonValue {
  return toJson(
    AnySchema,
    { $typeName: 'google.protobuf.Any', typeUrl: r.any.typeUrl, value: r.any.value },
    {
      registry: xdsRegistry,
      useProtoFieldName: true,
    },
  );
}

function timestamp(ms: number): string {
  return new Date(ms).toISOString();
}

function dynamic(r: ResourceState<unknown>, key: string): JsonObject {
  return { version_info: r.version, [key]: resourceJson(r), last_updated: timestamp(r.updatedAt) };
}

/**
 * Envoy's sections in Envoy's order: bootstrap, clusters, listeners, scoped routes, routes, secrets, and
 * endpoints only when asked (`?include_eds`), as Envoy does. Resources are exactly the bytes received.
 */
export function configDump(ctx: AdminContext, opts: { includeEds?: boolean } = {}): JsonObject {
  const status = ctx.xdsStatus();
  const version = (k: ResourceKind) => status?.kinds[k].ackedVersion ?? '';
  const b = ctx.bootstrap;
  const configs: JsonObject[] = [
    {
      '@type': `${ADMIN}BootstrapConfigDump`,
      bootstrap: {
        node: {
          id: b.node.id,
          cluster: b.node.cluster,
          metadata: b.node.metadata,
          locality: {
            region: b.node.locality.region,
            zone: b.node.locality.zone,
            sub_zone: b.node.locality.subZone,
          },
          user_agent_name: 'trellis',
          user_agent_version: ctx.version,
        },
        dynamic_resources: { ads_config: { api_type: 'GRPC', transport_api_version: 'V3' } },
        admin: { address: { socket_address: { address: b.admin.address, port_value: b.admin.port } } },
      },
      last_updated: timestamp(ctx.startedAt),
    },
  ];
  const clusters = ctx.resources('cluster');
  configs.push({
    '@type': `${ADMIN}ClustersConfigDump`,
    version_info: version('cluster'),
    dynamic_active_clusters: clusters.filter((r) => r.state === 'active').map((r) => dynamic(r, 'cluster')),
    dynamic_warming_clusters: clusters.filter((r) => r.state === 'warming').map((r) => dynamic(r, 'cluster')),
  });
  configs.push({
    '@type': `${ADMIN}ListenersConfigDump`,
    version_info: version('listener'),
    dynamic_listeners: ctx.resources('listener').map((r) => ({
      name: r.name,
      [r.state === 'active' ? 'active_state' : 'warming_state']: dynamic(r, 'listener'),
    })),
  });
  configs.push({ '@type': `${ADMIN}ScopedRoutesConfigDump` });
  configs.push({
    '@type': `${ADMIN}RoutesConfigDump`,
    dynamic_route_configs: ctx.resources('route').map((r) => dynamic(r, 'route_config')),
  });
  configs.push(secretsDump(ctx));
  if (opts.includeEds) {
    configs.push({
      '@type': `${ADMIN}EndpointsConfigDump`,
      dynamic_endpoint_configs: ctx.resources('endpoint').map((r) => dynamic(r, 'endpoint_config')),
    });
  }
  return { configs };
}

function secretsDump(ctx: AdminContext): JsonObject {
  const s = ctx.secrets();
  const out: JsonObject = { '@type': `${ADMIN}SecretsConfigDump` };
  if (!s) return out;
  const updated = timestamp(s.default.leaf.notBefore.getTime());
  out.dynamic_active_secrets = [
    {
      name: 'default',
      version_info: String(s.version),
      last_updated: updated,
      secret: {
        '@type': SECRET_TYPE,
        name: 'default',
        tls_certificate: {
          certificate_chain: { inline_bytes: Buffer.from(s.default.certChainPem).toString('base64') },
          private_key: { inline_bytes: REDACTED },
        },
      },
    },
    {
      name: 'ROOTCA',
      version_info: String(s.version),
      last_updated: updated,
      secret: {
        '@type': SECRET_TYPE,
        name: 'ROOTCA',
        validation_context: { trusted_ca: { inline_bytes: Buffer.from(s.rootCa.pem).toString('base64') } },
      },
    },
  ];
  return out;
}
