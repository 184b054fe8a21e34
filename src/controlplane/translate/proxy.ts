// The proxy asking for config, read from its xDS Node the way Istio reads it (id, locality, metadata keys).

import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';

export type ProxyType = 'sidecar' | 'router' | 'grpc';

export interface Locality {
  region: string;
  zone: string;
  subZone: string;
}

export interface PodPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

export interface MeshProxy {
  id: string;
  type: ProxyType;
  ips: string[];
  podName: string;
  namespace: string;
  workloadName: string;
  serviceAccount: string;
  labels: Record<string, string>;
  locality: Locality;
  /** REDIRECT: iptables capture (netns mode). NONE: no capture (host mode): bound listeners, explicit proxy. */
  interceptionMode: 'REDIRECT' | 'NONE';
  proxyHttpPort?: number;
  /** Host mode: where the app listens (inbound clusters point there); otherwise 127.0.0.1. */
  appAddress: string;
  podPorts: PodPort[];
  /** Gateways only: bind listeners to this address instead of 0.0.0.0 (the local runtime uses 127.0.0.1). */
  gatewayBindAddress?: string;
  /** Gateways only: server port → port to listen on (so a Gateway on port 80 can listen on 8080). */
  gatewayPortMap: Record<string, number>;
  version: string;
}

export interface NodeLike {
  id: string;
  cluster?: string;
  locality?: { region: string; zone: string; subZone: string };
  metadata?: JsonObject;
  userAgentName?: string;
}

function str(md: JsonObject | undefined, key: string): string | undefined {
  const v = md?.[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function strMap(v: JsonValue | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  } else if (typeof v === 'string' && v.startsWith('{')) {
    try {
      return strMap(JSON.parse(v) as JsonValue);
    } catch {
      return out;
    }
  }
  return out;
}

function podPorts(v: JsonValue | undefined): PodPort[] {
  let list: unknown = v;
  if (typeof v === 'string') {
    try {
      list = JSON.parse(v);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(list)) return [];
  return list
    .filter(
      (p): p is { containerPort: number; name?: string; protocol?: string } =>
        typeof p?.containerPort === 'number',
    )
    .map((p) => ({ containerPort: p.containerPort, name: p.name, protocol: p.protocol }));
}

/** Reads a Node into a MeshProxy. Proxyless gRPC clients (no Istio id) are recognised by GENERATOR=grpc or the gRPC user agent. */
export function proxyFromNode(node: NodeLike): MeshProxy {
  const md = node.metadata;
  const parts = node.id.split('~');
  const isIstioId = parts.length === 4;
  const generator = str(md, 'GENERATOR');
  let type: ProxyType = 'sidecar';
  if (isIstioId && parts[0] === 'router') type = 'router';
  if (generator === 'grpc' || (!isIstioId && /grpc/i.test(node.userAgentName ?? ''))) type = 'grpc';
  const podAndNs = isIstioId ? (parts[2] ?? '') : '';
  const dot = podAndNs.lastIndexOf('.');
  const namespace = str(md, 'NAMESPACE') ?? (dot > 0 ? podAndNs.slice(dot + 1) : 'default');
  const podName = str(md, 'NAME') ?? (dot > 0 ? podAndNs.slice(0, dot) : node.id);
  const ips = (str(md, 'INSTANCE_IPS') ?? (isIstioId ? (parts[1] ?? '') : ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const httpPort = Number(str(md, 'PROXY_HTTP_PORT'));
  const portMap: Record<string, number> = {};
  for (const [k, v] of Object.entries(strMap(md?.GATEWAY_PORT_MAP))) {
    const n = Number(v);
    if (Number.isInteger(n)) portMap[k] = n;
  }
  return {
    id: node.id,
    type,
    ips,
    podName,
    namespace,
    workloadName: str(md, 'WORKLOAD_NAME') ?? podName,
    serviceAccount: str(md, 'SERVICE_ACCOUNT') ?? 'default',
    labels: strMap(md?.LABELS),
    locality: {
      region: node.locality?.region ?? '',
      zone: node.locality?.zone ?? '',
      subZone: node.locality?.subZone ?? '',
    },
    interceptionMode: str(md, 'INTERCEPTION_MODE') === 'NONE' ? 'NONE' : 'REDIRECT',
    proxyHttpPort: Number.isInteger(httpPort) && httpPort > 0 ? httpPort : undefined,
    appAddress: str(md, 'APP_ADDRESS') ?? '127.0.0.1',
    podPorts: podPorts(md?.POD_PORTS),
    gatewayBindAddress: str(md, 'GATEWAY_BIND_ADDRESS'),
    gatewayPortMap: portMap,
    version: str(md, 'TRELLIS_VERSION') ?? str(md, 'ISTIO_VERSION') ?? '',
  };
}

/**
 * Proxies with equal keys get identical config and share one computed snapshot. The pod name and IP only
 * matter when listeners bind to the pod IP (host mode) or for gateways' bound listeners.
 */
export function proxyGroupKey(p: MeshProxy): string {
  const key = {
    type: p.type,
    namespace: p.namespace,
    workload: p.workloadName,
    sa: p.serviceAccount,
    labels: Object.entries(p.labels).sort(),
    locality: p.locality,
    mode: p.interceptionMode,
    http: p.proxyHttpPort,
    app: p.appAddress,
    ports: p.podPorts,
    gw: [p.gatewayBindAddress, Object.entries(p.gatewayPortMap).sort()],
    ip: p.interceptionMode === 'NONE' ? p.ips : undefined,
    // Proxyless clients ask for listeners by name; their config depends only on namespace.
  };
  const text = p.type === 'grpc' ? `grpc|${p.namespace}` : JSON.stringify(key);
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

export function localityString(l: Locality): string {
  return [l.region, l.zone, l.subZone].join('/');
}
