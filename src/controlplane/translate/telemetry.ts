// Telemetry API + mesh config → HCM access logs and tracing (provider, sampling), per workload and direction.

import type { ExtensionProvider, Telemetry } from '../../api/types/index.js';
import { ISTIO_TEXT_FORMAT, TRELLIS_JSON_FORMAT } from '../../telemetry/accesslog/formats.js';
import { OpenTelemetryConfigSchema } from '../../xds/gen/envoy/config/trace/v3/opentelemetry_pb.js';
import {
  ZipkinConfig_CollectorEndpointVersion,
  ZipkinConfigSchema,
} from '../../xds/gen/envoy/config/trace/v3/zipkin_pb.js';
import { FileAccessLogSchema } from '../../xds/gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { resolveHost } from '../index/hosts.js';
import type { MeshIndex } from '../index/mesh-index.js';
import { telemetriesFor } from '../index/workload-policies.js';
import { ms, outboundClusterName, typed } from './envoy.js';
import type { MeshProxy } from './proxy.js';

export type Direction = 'inbound' | 'outbound' | 'gateway';

function modeMatches(mode: string | undefined, direction: Direction): boolean {
  if (!mode || mode === 'CLIENT_AND_SERVER') return true;
  return mode === 'CLIENT' ? direction !== 'inbound' : direction === 'inbound';
}

function provider(index: MeshIndex, name: string): ExtensionProvider | undefined {
  return index.mesh.extensionProviders?.find((p) => p.name === name);
}

function accessLogFor(index: MeshIndex, telemetries: Telemetry[], direction: Direction) {
  // The narrowest Telemetry with an accessLogging entry for this direction decides; else the mesh config.
  for (const t of [...telemetries].reverse()) {
    const entry = t.spec.accessLogging?.find((a) => modeMatches(a.match?.mode, direction));
    if (!entry) continue;
    if (entry.disabled) return [];
    const names = entry.providers?.map((p) => p.name) ??
      index.mesh.defaultProviders?.accessLogging ?? ['envoy'];
    return names.flatMap((n) => {
      if (n === 'envoy')
        return [
          fileLog(
            index.mesh.accessLogFile || '/dev/stdout',
            index.mesh.accessLogEncoding,
            index.mesh.accessLogFormat,
          ),
        ];
      const p = provider(index, n)?.envoyFileAccessLog;
      return p
        ? [
            fileLog(
              p.path ?? '/dev/stdout',
              p.logFormat?.labels ? 'JSON' : 'TEXT',
              p.logFormat?.text,
              p.logFormat?.labels,
            ),
          ]
        : [];
    });
  }
  if (index.mesh.accessLogFile)
    return [fileLog(index.mesh.accessLogFile, index.mesh.accessLogEncoding, index.mesh.accessLogFormat)];
  return [];
}

function fileLog(path: string, encoding: string | undefined, text?: string, labels?: Record<string, string>) {
  const format =
    encoding === 'JSON'
      ? { case: 'jsonFormat' as const, value: labels ?? { ...TRELLIS_JSON_FORMAT } }
      : {
          case: 'logFormat' as const,
          value: { format: { case: 'textFormat' as const, value: text ?? ISTIO_TEXT_FORMAT } },
        };
  return {
    name: 'envoy.access_loggers.file',
    configType: {
      case: 'typedConfig' as const,
      value: typed(FileAccessLogSchema, { path, accessLogFormat: format }),
    },
  };
}

function collectorCluster(
  index: MeshIndex,
  service: string,
  port: number,
): { cluster: string; host: string } {
  // Provider services are written as `name.ns.svc.cluster.local` or `ns/name`.
  const host = service.includes('/')
    ? resolveHost(service.split('/')[1]!, service.split('/')[0]!, index.mesh.domainSuffix)
    : service;
  return { cluster: outboundClusterName(port, '', host), host };
}

function tracingProvider(index: MeshIndex, p: ExtensionProvider, proxy: MeshProxy) {
  if (p.zipkin) {
    const { cluster } = collectorCluster(index, p.zipkin.service, p.zipkin.port);
    return {
      name: 'envoy.tracers.zipkin',
      configType: {
        case: 'typedConfig' as const,
        value: typed(ZipkinConfigSchema, {
          collectorCluster: cluster,
          collectorEndpoint: p.zipkin.path ?? '/api/v2/spans',
          collectorEndpointVersion: ZipkinConfig_CollectorEndpointVersion.HTTP_JSON,
          sharedSpanContext: false,
          traceId128bit: true,
        }),
      },
    };
  }
  if (p.opentelemetry) {
    const { cluster, host } = collectorCluster(index, p.opentelemetry.service, p.opentelemetry.port);
    const path = p.opentelemetry.http?.path ?? '/v1/traces';
    return {
      name: 'envoy.tracers.opentelemetry',
      configType: {
        case: 'typedConfig' as const,
        value: typed(OpenTelemetryConfigSchema, {
          httpService: {
            httpUri: {
              uri: `http://${host}:${p.opentelemetry.port}${path}`,
              httpUpstreamType: { case: 'cluster', value: cluster },
              timeout: ms(2000),
            },
          },
          serviceName:
            proxy.labels['service.istio.io/canonical-name'] ?? proxy.labels.app ?? proxy.workloadName,
        }),
      },
    };
  }
  return undefined;
}

function tracingFor(index: MeshIndex, telemetries: Telemetry[], direction: Direction, proxy: MeshProxy) {
  let sampling = index.mesh.defaultConfig?.tracing?.sampling ?? 1;
  let providers = index.mesh.defaultProviders?.tracing ?? [];
  let disabled = index.mesh.enableTracing === false;
  let customTags: Record<string, string> = {};
  for (const t of telemetries) {
    const entry = t.spec.tracing?.find((x) => modeMatches(x.match?.mode, direction));
    if (!entry) continue;
    if (entry.randomSamplingPercentage !== undefined) sampling = entry.randomSamplingPercentage;
    if (entry.providers && entry.providers.length > 0) providers = entry.providers.map((p) => p.name);
    if (entry.disableSpanReporting !== undefined) disabled = entry.disableSpanReporting;
    for (const [k, v] of Object.entries(entry.customTags ?? {}))
      if (v.literal) customTags = { ...customTags, [k]: v.literal.value };
  }
  if (disabled || providers.length === 0) return undefined;
  const p = provider(index, providers[0]!);
  const prov = p ? tracingProvider(index, p, proxy) : undefined;
  if (!prov) return undefined;
  return {
    randomSampling: { value: sampling },
    provider: prov,
    customTags: Object.entries(customTags).map(([tag, value]) => ({
      tag,
      type: { case: 'literal' as const, value: { value } },
    })),
    spawnUpstreamSpan: direction !== 'inbound',
  };
}

export function hcmTelemetry(index: MeshIndex, proxy: MeshProxy, direction: Direction) {
  const telemetries = telemetriesFor(index.config, proxy, index.mesh.rootNamespace);
  return {
    accessLog: accessLogFor(index, telemetries, direction),
    tracing: tracingFor(index, telemetries, direction, proxy),
  };
}
