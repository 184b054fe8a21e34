// The mesh config in effect: ConfigMap istio-system/istio key `mesh`, validated, over Istio's defaults.

import { parse } from 'yaml';
import type { ConfigMessage } from '../api/messages.js';
import { formatPath } from '../api/messages.js';
import { type CheckContext, isPlainObject } from '../api/schema/schema.js';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from '../api/types/mesh-config.js';
import type { Resource, ResourceRef } from '../api/types/meta.js';
import { ROOT_NAMESPACE } from '../api/types/meta.js';
import { downgradeIgnoredMeshFields, meshConfigSchema } from '../api/validate/mesh-config.js';

export const MESH_CONFIG_REF: ResourceRef = { kind: 'ConfigMap', namespace: ROOT_NAMESPACE, name: 'istio' };

/** Fields Istio always fills in; the control plane can rely on them. */
export type ResolvedMeshConfig = MeshConfig &
  Required<
    Pick<
      MeshConfig,
      | 'trustDomain'
      | 'trustDomainAliases'
      | 'rootNamespace'
      | 'outboundTrafficPolicy'
      | 'enableTracing'
      | 'defaultConfig'
      | 'accessLogFile'
      | 'accessLogEncoding'
      | 'defaultHttpRetryPolicy'
      | 'pathNormalization'
      | 'extensionProviders'
      | 'defaultProviders'
      | 'localityLbSetting'
      | 'connectTimeout'
      | 'protocolDetectionTimeout'
      | 'enableAutoMtls'
      | 'h2UpgradePolicy'
    >
  >;

/** Istio's defaults (mesh.DefaultMeshConfig), with Trellis's protocol detection timeout. */
export function meshDefaults(): ResolvedMeshConfig {
  return {
    ...DEFAULT_MESH_CONFIG,
    trustDomainAliases: [],
    outboundTrafficPolicy: { mode: 'ALLOW_ANY' },
    enableTracing: true,
    defaultConfig: {
      tracing: { sampling: 1 },
      holdApplicationUntilProxyStarts: false,
      terminationDrainDuration: '5s',
    },
    accessLogFile: '',
    accessLogEncoding: 'TEXT',
    // No 503 since Istio 1.24 (docs/xds-contract.md §4).
    defaultHttpRetryPolicy: {
      attempts: 2,
      retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
    },
    pathNormalization: { normalization: 'DEFAULT' },
    extensionProviders: [
      { name: 'prometheus', prometheus: {} },
      { name: 'envoy', envoyFileAccessLog: { path: '/dev/stdout' } },
    ],
    defaultProviders: { metrics: ['prometheus'] },
    localityLbSetting: { enabled: true },
    h2UpgradePolicy: 'DO_NOT_UPGRADE',
  };
}

/**
 * User settings over the defaults. Nested objects Istio merges field by field (defaultConfig,
 * outboundTrafficPolicy...) are merged one level deep; lists replace; extension providers add to the
 * built-in ones, a user provider replacing a built-in one of the same name.
 */
export function withMeshDefaults(mesh: MeshConfig): ResolvedMeshConfig {
  const d = meshDefaults();
  const userProviders = mesh.extensionProviders ?? [];
  return {
    ...d,
    ...mesh,
    outboundTrafficPolicy: { ...d.outboundTrafficPolicy, ...mesh.outboundTrafficPolicy },
    defaultConfig: { ...d.defaultConfig, ...mesh.defaultConfig },
    pathNormalization: { ...d.pathNormalization, ...mesh.pathNormalization },
    defaultProviders: { ...d.defaultProviders, ...mesh.defaultProviders },
    localityLbSetting: mesh.localityLbSetting ?? d.localityLbSetting,
    defaultHttpRetryPolicy: mesh.defaultHttpRetryPolicy ?? d.defaultHttpRetryPolicy,
    extensionProviders: [
      ...d.extensionProviders.filter((p) => !userProviders.some((u) => u.name === p.name)),
      ...userProviders,
    ],
  } as ResolvedMeshConfig;
}

export interface MeshConfigResult {
  meshConfig: ResolvedMeshConfig;
  /** Problems with the ConfigMap's `mesh` text; when there are errors, the defaults are used, as Istio would keep its last good config. */
  messages: ConfigMessage[];
}

/** Reads and validates the mesh config from anything with `get` (a ConfigStore or a snapshot). */
export function meshConfigFrom(source: { get(ref: ResourceRef): Resource | undefined }): MeshConfigResult {
  const cm = source.get(MESH_CONFIG_REF) as
    | Resource<'ConfigMap', { data?: Record<string, string> }>
    | undefined;
  const text = cm?.spec?.data?.mesh;
  if (text === undefined || text.trim() === '') return { meshConfig: meshDefaults(), messages: [] };
  let value: unknown;
  try {
    value = parse(text);
  } catch (e) {
    return {
      meshConfig: meshDefaults(),
      messages: [problem(`mesh config is not valid YAML: ${(e as Error).message}`)],
    };
  }
  if (value === null || value === undefined) return { meshConfig: meshDefaults(), messages: [] };
  if (!isPlainObject(value))
    return {
      meshConfig: meshDefaults(),
      messages: [problem('mesh config must be a YAML map of MeshConfig fields')],
    };
  const ctx: CheckContext = { kind: 'ConfigMap', namespace: ROOT_NAMESPACE, name: 'istio', issues: [] };
  meshConfigSchema().check(value, [], ctx);
  const messages = downgradeIgnoredMeshFields(ctx.issues).map((i) => ({
    severity: i.severity,
    code: i.code,
    message: i.message,
    resource: MESH_CONFIG_REF,
    path: formatPath(['spec', 'data', 'mesh', ...i.path]),
  }));
  if (messages.some((m) => m.severity === 'error')) return { meshConfig: meshDefaults(), messages };
  return { meshConfig: withMeshDefaults(value as MeshConfig), messages };
}

function problem(message: string): ConfigMessage {
  return {
    severity: 'error',
    code: 'InvalidValue',
    message,
    resource: MESH_CONFIG_REF,
    path: 'spec.data.mesh',
  };
}
