// MeshConfig (ConfigMap istio-system/istio, key `mesh`): the fields Trellis reads and their rules.

import { parseYamlText } from '../load/yaml-source.js';
import type { FieldPath } from '../messages.js';
import {
  arrayOf,
  bool,
  type CheckContext,
  emptyObject,
  enumOf,
  type Issue,
  int,
  isPlainObject,
  mapOf,
  num,
  object,
  opt,
  refine,
  report,
  req,
  type Schema,
  str,
} from '../schema/schema.js';
import type { ExtensionProvider, MeshConfig } from '../types/mesh-config.js';
import { duration, headerName, port } from './common.js';
import { localityLbSetting } from './destination-rule.js';
import { isDns1123Subdomain } from './names.js';

const service = () => str({ nonEmpty: true, describe: 'a service host' });

const PROVIDER_KINDS = [
  'envoyExtAuthzHttp',
  'envoyExtAuthzGrpc',
  'zipkin',
  'opentelemetry',
  'envoyFileAccessLog',
  'prometheus',
  'envoyRateLimit',
] as const;

const headers = () => arrayOf(headerName('header', { lowercase: 'warning' }));

const extensionProvider = (): Schema<ExtensionProvider> =>
  refine(
    object<ExtensionProvider>(
      {
        name: req(str({ nonEmpty: true })),
        envoyExtAuthzHttp: opt(
          object<NonNullable<ExtensionProvider['envoyExtAuthzHttp']>>({
            service: req(service()),
            port: req(port()),
            timeout: opt(duration()),
            pathPrefix: opt(str()),
            failOpen: opt(bool()),
            statusOnError: opt(str()),
            includeRequestHeadersInCheck: opt(headers()),
            headersToUpstreamOnAllow: opt(headers()),
            headersToDownstreamOnDeny: opt(headers()),
            headersToDownstreamOnAllow: opt(headers()),
          }),
        ),
        envoyExtAuthzGrpc: opt(
          object<NonNullable<ExtensionProvider['envoyExtAuthzGrpc']>>({
            service: req(service()),
            port: req(port()),
            timeout: opt(duration()),
            failOpen: opt(bool()),
            statusOnError: opt(str()),
          }),
        ),
        zipkin: opt(
          object<NonNullable<ExtensionProvider['zipkin']>>({
            service: req(service()),
            port: req(port()),
            path: opt(str()),
            maxTagLength: opt(int({ min: 0 })),
          }),
        ),
        opentelemetry: opt(
          object<NonNullable<ExtensionProvider['opentelemetry']>>({
            service: req(service()),
            port: req(port()),
            http: opt(
              object<{ path?: string; timeout?: string }>({ path: opt(str()), timeout: opt(duration()) }),
            ),
          }),
        ),
        envoyFileAccessLog: opt(
          object<NonNullable<ExtensionProvider['envoyFileAccessLog']>>({
            path: opt(str()),
            logFormat: opt(
              object<{ text?: string; labels?: Record<string, string> }>(
                { text: opt(str()), labels: opt(mapOf(str())) },
                { oneOf: [['text', 'labels']] },
              ),
            ),
          }),
        ),
        prometheus: opt(emptyObject()),
        envoyRateLimit: opt(
          object<NonNullable<ExtensionProvider['envoyRateLimit']>>({
            service: req(service()),
            port: req(port()),
            failOpen: opt(bool()),
            timeout: opt(duration()),
          }),
        ),
      },
      { oneOf: [PROVIDER_KINDS] },
    ),
    (p, path, ctx) => {
      if (!PROVIDER_KINDS.some((k) => p[k] !== undefined)) {
        report(ctx, path, `extension provider "${p.name}" needs one of ${PROVIDER_KINDS.join(', ')}`, {
          code: 'MissingField',
        });
      }
    },
  );

/** Providers Istio defines without an extensionProviders entry. */
const BUILTIN_PROVIDERS = new Set(['prometheus', 'envoy']);

export const meshConfigSchema = (): Schema<MeshConfig> =>
  refine(
    object<MeshConfig>({
      trustDomain: opt(
        refine(str({ nonEmpty: true }), (t, path, ctx) => {
          if (!isDns1123Subdomain(t)) report(ctx, path, `trustDomain "${t}" must be a lowercase DNS name`);
        }),
      ),
      trustDomainAliases: opt(arrayOf(str({ nonEmpty: true }))),
      rootNamespace: opt(str({ nonEmpty: true })),
      outboundTrafficPolicy: opt(
        object<{ mode?: 'REGISTRY_ONLY' | 'ALLOW_ANY' }>({
          mode: opt(enumOf(['REGISTRY_ONLY', 'ALLOW_ANY'])),
        }),
      ),
      enableTracing: opt(bool()),
      defaultConfig: opt(
        object<NonNullable<MeshConfig['defaultConfig']>>({
          tracing: opt(object<{ sampling?: number }>({ sampling: opt(num({ min: 0, max: 100 })) })),
          holdApplicationUntilProxyStarts: opt(bool()),
          terminationDrainDuration: opt(duration()),
          proxyMetadata: opt(mapOf(str())),
        }),
      ),
      accessLogFile: opt(str()),
      accessLogEncoding: opt(enumOf(['TEXT', 'JSON'])),
      accessLogFormat: opt(str()),
      defaultHttpRetryPolicy: opt(
        object<NonNullable<MeshConfig['defaultHttpRetryPolicy']>>({
          attempts: opt(int({ min: 0 })),
          perTryTimeout: opt(duration()),
          retryOn: opt(str()),
          retryRemoteLocalities: opt(bool()),
          retryIgnorePreviousHosts: opt(bool()),
          backoff: opt(duration()),
        }),
      ),
      pathNormalization: opt(
        object<NonNullable<MeshConfig['pathNormalization']>>({
          normalization: opt(
            enumOf(['DEFAULT', 'NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES']),
          ),
        }),
      ),
      extensionProviders: opt(arrayOf(extensionProvider())),
      defaultProviders: opt(
        object<NonNullable<MeshConfig['defaultProviders']>>({
          tracing: opt(arrayOf(str({ nonEmpty: true }))),
          metrics: opt(arrayOf(str({ nonEmpty: true }))),
          accessLogging: opt(arrayOf(str({ nonEmpty: true }))),
        }),
      ),
      localityLbSetting: opt(localityLbSetting()),
      connectTimeout: opt(duration({ maxMs: 30_000 })),
      protocolDetectionTimeout: opt(duration({ minMs: 0 })),
      enableAutoMtls: opt(bool()),
      h2UpgradePolicy: opt(enumOf(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'])),
    }),
    (m, path, ctx) => {
      const names = new Map<string, number>();
      m.extensionProviders?.forEach((p, i) => {
        if (names.has(p.name))
          report(
            ctx,
            [...path, 'extensionProviders', i, 'name'],
            `extension provider name "${p.name}" is already used by extensionProviders[${names.get(p.name)}]`,
          );
        names.set(p.name, i);
      });
      for (const kind of ['tracing', 'metrics', 'accessLogging'] as const) {
        m.defaultProviders?.[kind]?.forEach((name, i) => {
          if (!names.has(name) && !BUILTIN_PROVIDERS.has(name)) {
            report(
              ctx,
              [...path, 'defaultProviders', kind, i],
              `default ${kind} provider "${name}" is not defined in extensionProviders`,
            );
          }
        });
      }
    },
  );

/**
 * Istio MeshConfig and ProxyConfig fields that Trellis does not use: a real `istio` ConfigMap has them, so they
 * are warnings ("ignored"), not errors. Anything else unknown is still an error.
 */
const IGNORED_MESH_FIELDS = new Set([
  'enablePrometheusMerge',
  'ingressClass',
  'ingressService',
  'ingressControllerMode',
  'ingressSelector',
  'proxyListenPort',
  'proxyInboundListenPort',
  'proxyHttpPort',
  'tcpKeepalive',
  'dnsRefreshRate',
  'inboundClusterStatName',
  'outboundClusterStatName',
  'certificates',
  'thriftConfig',
  'serviceSettings',
  'enableEnvoyAccessLogService',
  'caCertificates',
  'discoverySelectors',
  'meshMTLS',
  'tlsDefaults',
  'verifyCertificateAtClient',
  'serviceScopeConfigs',
  'meshNetworks',
  // defaultConfig (ProxyConfig)
  'discoveryAddress',
  'configPath',
  'binaryPath',
  'serviceCluster',
  'drainDuration',
  'parentShutdownDuration',
  'proxyAdminPort',
  'statNameLength',
  'concurrency',
  'proxyBootstrapTemplatePath',
  'interceptionMode',
  'statusPort',
  'extraStatTags',
  'proxyStatsMatcher',
  'gatewayTopology',
  'image',
  'privateKeyProvider',
  'meshId',
  'controlPlaneAuthPolicy',
  'zipkin',
  'tlsSettings',
  'custom_tags',
  'max_path_tag_length',
]);

export function downgradeIgnoredMeshFields(issues: readonly Issue[]): Issue[] {
  return issues.map((i) => {
    const last = i.path[i.path.length - 1];
    if (i.code !== 'UnknownField' || typeof last !== 'string' || !IGNORED_MESH_FIELDS.has(last)) return i;
    return {
      ...i,
      severity: 'warning',
      code: 'IgnoredField',
      message: `"${last}" is an Istio mesh config field that Trellis ignores`,
    };
  });
}

/** Validates mesh config YAML held in a string field, reporting inner fields with their position inside it. */
export function checkMeshConfigText(text: string, path: FieldPath, ctx: CheckContext): void {
  const parsed = parseYamlText(text);
  const doc = parsed.documents[0];
  if (parsed.documents.length > 1) report(ctx, path, 'mesh config must be a single YAML document');
  if (!doc) return;
  for (const p of doc.problems) {
    ctx.issues.push({
      severity: p.severity,
      code: 'YAMLSyntaxError',
      path,
      message: `mesh config: ${p.message}`,
      inner: { line: p.line, col: p.col },
    });
  }
  if (doc.problems.some((p) => p.severity === 'error')) return;
  if (doc.value === null || doc.value === undefined) return;
  if (!isPlainObject(doc.value)) {
    report(ctx, path, 'mesh config must be a YAML map of MeshConfig fields');
    return;
  }
  const inner: CheckContext = { kind: ctx.kind, namespace: ctx.namespace, name: ctx.name, issues: [] };
  meshConfigSchema().check(doc.value, [], inner);
  for (const issue of downgradeIgnoredMeshFields(inner.issues)) {
    const pos = doc.positionOf(issue.path, { atKey: issue.atKey ?? false });
    ctx.issues.push({ ...issue, path: [...path, ...issue.path], inner: pos });
  }
}
