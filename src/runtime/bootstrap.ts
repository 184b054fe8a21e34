// The sidecar's bootstrap file (docs/runtime-contract.md §2): who the proxy is and where the control plane is.

export const SIDECAR_PORTS = {
  admin: 15000,
  outbound: 15001,
  inbound: 15006,
  mergedMetrics: 15020,
  readiness: 15021,
  stats: 15090,
  explicitHttpProxy: 15080,
} as const;

export interface SidecarBootstrap {
  node: {
    id: string;
    cluster: string;
    locality: { region: string; zone: string; subZone: string };
    metadata: Record<string, unknown>;
  };
  xds: { address: string; tls: boolean; caCertificateFile: string };
  ca: { address: string; tokenFile: string };
  admin: { address: string; port: number; socketPath: string };
  ports: { stats: number; mergedMetrics: number; readiness: number };
  bindAddress: string;
  appMetrics?: { port: number; path: string };
  drainTimeoutMs: number;
}

export interface ProxyIdentity {
  podName: string;
  namespace: string;
  workloadName: string;
  serviceAccount: string;
  labels: Record<string, string>;
  /** The address other proxies reach this one at (pod IP, or the sidecar's loopback address in host mode). */
  ip: string;
  /** `region/zone/subzone`. */
  locality?: string;
  containerPorts: { containerPort: number; name?: string }[];
  appContainers: string[];
}

export interface BootstrapOptions {
  identity: ProxyIdentity;
  /** `host:port` of the control plane's xDS-over-mTLS port as this proxy reaches it. */
  xdsAddress: string;
  caCertificateFile: string;
  tokenFile: string;
  adminSocketPath: string;
  mode: 'netns' | 'host';
  /** Host mode: the app's own loopback address. */
  appAddress?: string;
  appMetrics?: { port: number; path: string };
  drainTimeoutMs: number;
  domainSuffix?: string;
}

function locality(l: string | undefined): SidecarBootstrap['node']['locality'] {
  const [region = '', zone = '', subZone = ''] = (l ?? '').split('/');
  return { region, zone, subZone };
}

function baseMetadata(id: ProxyIdentity): Record<string, unknown> {
  return {
    NAMESPACE: id.namespace,
    NAME: id.podName,
    WORKLOAD_NAME: id.workloadName,
    SERVICE_ACCOUNT: id.serviceAccount,
    LABELS: id.labels,
    INSTANCE_IPS: id.ip,
    CLUSTER_ID: 'Kubernetes',
    MESH_ID: 'cluster.local',
    POD_PORTS: JSON.stringify(
      id.containerPorts.map((p) =>
        p.name ? { containerPort: p.containerPort, name: p.name } : { containerPort: p.containerPort },
      ),
    ),
    APP_CONTAINERS: id.appContainers.join(','),
  };
}

function common(
  o: BootstrapOptions,
  nodeType: 'sidecar' | 'router',
  metadata: Record<string, unknown>,
  bindAddress: string,
): SidecarBootstrap {
  const id = o.identity;
  const suffix = o.domainSuffix ?? 'cluster.local';
  const app = id.labels.app ?? id.workloadName;
  const out: SidecarBootstrap = {
    node: {
      id: `${nodeType}~${id.ip}~${id.podName}.${id.namespace}~${id.namespace}.svc.${suffix}`,
      cluster: `${app}.${id.namespace}`,
      locality: locality(id.locality),
      metadata,
    },
    xds: { address: o.xdsAddress, tls: true, caCertificateFile: o.caCertificateFile },
    ca: { address: o.xdsAddress, tokenFile: o.tokenFile },
    admin: { address: '127.0.0.1', port: SIDECAR_PORTS.admin, socketPath: o.adminSocketPath },
    ports: {
      stats: SIDECAR_PORTS.stats,
      mergedMetrics: SIDECAR_PORTS.mergedMetrics,
      readiness: SIDECAR_PORTS.readiness,
    },
    bindAddress,
    drainTimeoutMs: o.drainTimeoutMs,
  };
  if (o.appMetrics) out.appMetrics = o.appMetrics;
  return out;
}

/** A pod's sidecar: REDIRECT capture in its namespace, or explicit proxy and own loopback address in host mode. */
export function sidecarBootstrap(o: BootstrapOptions): SidecarBootstrap {
  const md = baseMetadata(o.identity);
  if (o.mode === 'netns') {
    md.INTERCEPTION_MODE = 'REDIRECT';
    return common(o, 'sidecar', md, '0.0.0.0');
  }
  md.INTERCEPTION_MODE = 'NONE';
  md.PROXY_HTTP_PORT = String(SIDECAR_PORTS.explicitHttpProxy);
  md.APP_ADDRESS = o.appAddress ?? '127.0.0.1';
  const out = common(o, 'sidecar', md, o.identity.ip);
  // Every pod has its own address in host mode, so the admin port need not move; it binds the pod's address.
  out.admin.address = o.identity.ip;
  return out;
}

export interface GatewayBootstrapOptions extends BootstrapOptions {
  /** Gateway server port → host port on 127.0.0.1. */
  portMap: Record<string, string>;
}

/** The ingress gateway: a `router` node in the host's namespace; its listeners bind 127.0.0.1. */
export function gatewayBootstrap(o: GatewayBootstrapOptions): SidecarBootstrap {
  const md = baseMetadata(o.identity);
  md.INTERCEPTION_MODE = 'NONE';
  md.GATEWAY_BIND_ADDRESS = '127.0.0.1';
  md.GATEWAY_PORT_MAP = o.portMap;
  const out = common(o, 'router', md, o.identity.ip);
  out.admin.address = o.identity.ip;
  return out;
}
