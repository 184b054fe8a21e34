// Test helper: Istio YAML through the control plane's real translation, down to one workload's security filters.

import { parseAllDocuments } from 'yaml';
import type { KubeService, MeshConfig, Resource } from '../../../src/api/types/index.js';
import { resolveMeshConfig } from '../../../src/controlplane/index/inputs.js';
import { buildMeshIndex } from '../../../src/controlplane/index/mesh-index.js';
import { generateForProxy } from '../../../src/controlplane/translate/generate.js';
import { proxyFromNode } from '../../../src/controlplane/translate/proxy.js';
import { KubeRegistry } from '../../../src/registry/kube-registry.js';
import type { Workload } from '../../../src/registry/model.js';
import { mergeSnapshots, serviceEntrySnapshot } from '../../../src/registry/serviceentry-registry.js';
import { type ChainSecurity, chainSecurity } from './envoy-to-model.js';

export interface WorkloadSpec {
  app: string;
  namespace?: string;
  serviceAccount?: string;
  /** Service ports, HTTP unless named `tcp-*`. */
  ports: { name: string; port: number }[];
  version?: string;
}

export interface TranslateOptions {
  mesh?: MeshConfig;
  /** The control plane's fetched JWKS documents by jwksUri (MeshInputs.jwks). */
  jwks?: ReadonlyMap<string, string>;
}

function parse(yaml: string): Resource[] {
  return parseAllDocuments(yaml)
    .map((d) => d.toJSON() as Resource | null)
    .filter((r): r is Resource => !!r)
    .map((r) => ({ ...r, metadata: { namespace: 'default', ...r.metadata }, spec: r.spec ?? {} }));
}

/**
 * Translates `policiesYaml` (AuthorizationPolicy, RequestAuthentication, ...) for the workloads given and
 * returns, per workload app, a reader of its inbound filter chains' security filters.
 */
export function translateSecurity(
  policiesYaml: string,
  workloads: readonly WorkloadSpec[],
  opts: TranslateOptions = {},
): (app: string, chain: string) => ChainSecurity {
  const services: KubeService[] = workloads.map((w, i) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: w.app, namespace: w.namespace ?? 'default' },
    spec: {
      selector: { app: w.app },
      clusterIP: `10.96.0.${i + 1}`,
      ports: w.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port })),
    },
  }));
  const pods: Workload[] = workloads.map((w, i) => ({
    name: `${w.app}-0`,
    namespace: w.namespace ?? 'default',
    labels: { app: w.app, version: w.version ?? 'v1' },
    annotations: {},
    ip: `10.1.0.${i + 1}`,
    serviceAccount: w.serviceAccount ?? w.app,
    workloadName: w.app,
    containerPorts: w.ports.map((p) => ({ name: p.name, port: p.port })),
    ready: true,
    hasSidecar: true,
  }));
  const kube = new KubeRegistry();
  kube.setServices(services);
  kube.setWorkloads(pods);
  const registry = mergeSnapshots(
    [kube.snapshot(), serviceEntrySnapshot({ serviceEntries: [], workloadEntries: [], workloads: pods })],
    pods,
  );
  const index = buildMeshIndex({
    resources: parse(policiesYaml),
    mesh: resolveMeshConfig(opts.mesh ?? {}),
    registry,
    jwks: opts.jwks,
  });
  return (app, chain) => {
    const i = workloads.findIndex((w) => w.app === app);
    const w = workloads[i];
    if (!w) throw new Error(`no workload "${app}"`);
    const ns = w.namespace ?? 'default';
    const proxy = proxyFromNode({
      id: `sidecar~10.1.0.${i + 1}~${w.app}-0.${ns}~${ns}.svc.cluster.local`,
      metadata: {
        NAMESPACE: ns,
        NAME: `${w.app}-0`,
        WORKLOAD_NAME: w.app,
        SERVICE_ACCOUNT: w.serviceAccount ?? w.app,
        LABELS: { app: w.app, version: w.version ?? 'v1' },
        INSTANCE_IPS: `10.1.0.${i + 1}`,
      },
    });
    return chainSecurity(generateForProxy(index, proxy).listeners, chain);
  };
}
