// Golden-file harness for translation: YAML in (config, services, deployments, proxies), Envoy JSON out.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type {
  Deployment,
  KubeService,
  MeshConfig,
  Resource,
  ServiceEntry,
  WorkloadEntry,
} from '../../src/api/types/index.js';
import { resolveMeshConfig } from '../../src/controlplane/index/inputs.js';
import { buildMeshIndex } from '../../src/controlplane/index/mesh-index.js';
import { generateForProxy } from '../../src/controlplane/translate/generate.js';
import { type NodeLike, proxyFromNode } from '../../src/controlplane/translate/proxy.js';
import { KubeRegistry } from '../../src/registry/kube-registry.js';
import type { Workload } from '../../src/registry/model.js';
import { mergeSnapshots, serviceEntrySnapshot } from '../../src/registry/serviceentry-registry.js';
import { messageToJson } from '../../src/xds/any.js';
import { ClusterSchema } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../src/xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../src/xds/gen/envoy/config/route/v3/route_pb.js';

export const CASES_DIR = new URL('../../../test/golden/translate/', import.meta.url).pathname;

interface ProxySpec {
  name: string;
  node: NodeLike;
}

/** Pods of each Deployment replica, with deterministic IPs (10.1.0.x) so golden files are stable. */
export function workloadsFromDeployments(
  deployments: Deployment[],
  extra: { locality?: Record<string, string> } = {},
): Workload[] {
  const out: Workload[] = [];
  let n = 1;
  for (const d of deployments) {
    const ns = d.metadata.namespace ?? 'default';
    const labels = d.spec.template.metadata?.labels ?? {};
    const annotations = d.spec.template.metadata?.annotations ?? {};
    for (let i = 0; i < (d.spec.replicas ?? 1); i++) {
      out.push({
        name: `${d.metadata.name}-${i}`,
        namespace: ns,
        labels,
        annotations,
        ip: `10.1.0.${n++}`,
        serviceAccount: d.spec.template.spec.serviceAccountName ?? 'default',
        workloadName: d.metadata.name,
        containerPorts: d.spec.template.spec.containers.flatMap((c) =>
          (c.ports ?? []).map((p) => ({ name: p.name, port: p.containerPort })),
        ),
        ready: true,
        hasSidecar: annotations['sidecar.istio.io/inject'] !== 'false',
        locality: annotations['trellis.dev/locality'] ?? extra.locality?.[d.metadata.name],
      });
    }
  }
  return out;
}

function loadYaml(path: string): Resource[] {
  if (!existsSync(path)) return [];
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJSON() as Resource | null)
    .filter((r): r is Resource => !!r)
    .map((r) => ({ ...r, metadata: { namespace: 'default', ...r.metadata }, spec: r.spec ?? {} }));
}

/** A case's `input.yaml`, after the inputs of the cases named in its optional `base` file (one per line). */
function caseResources(dir: string): Resource[] {
  const basePath = join(dir, 'base');
  const bases = existsSync(basePath)
    ? readFileSync(basePath, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'))
    : [];
  return [...bases.flatMap((b) => caseResources(join(dir, '..', b))), ...loadYaml(join(dir, 'input.yaml'))];
}

export function translateCase(dir: string): Record<string, unknown> {
  const resources = caseResources(dir);
  const meshDoc = loadYaml(join(dir, 'mesh.yaml'))[0] as unknown as MeshConfig | undefined;
  const proxies =
    (parseAllDocuments(readFileSync(join(dir, 'proxies.yaml'), 'utf8'))[0]!.toJSON() as ProxySpec[]) ?? [];
  let vip = 1;
  const services = resources
    .filter((r): r is KubeService => r.kind === 'Service')
    .map((s) => ({ ...s, spec: { ...s.spec, clusterIP: s.spec.clusterIP ?? `10.96.0.${vip++}` } }));
  const workloads = workloadsFromDeployments(
    resources.filter((r): r is Deployment => r.kind === 'Deployment'),
  );
  const kube = new KubeRegistry();
  kube.setServices(services);
  kube.setWorkloads(workloads);
  const se = serviceEntrySnapshot({
    serviceEntries: resources.filter((r): r is ServiceEntry => r.kind === 'ServiceEntry'),
    workloadEntries: resources.filter((r): r is WorkloadEntry => r.kind === 'WorkloadEntry'),
    workloads,
  });
  const registry = mergeSnapshots([kube.snapshot(), se], workloads);
  const istio = resources.filter(
    (r) => !['Service', 'Deployment', 'ServiceAccount', 'Namespace'].includes(r.kind),
  );
  const index = buildMeshIndex({ resources: istio, mesh: resolveMeshConfig(meshDoc ?? {}), registry });
  const out: Record<string, unknown> = {};
  for (const p of proxies) {
    const res = generateForProxy(index, proxyFromNode(p.node));
    out[p.name] = {
      listeners: res.listeners.map((l) => messageToJson(ListenerSchema, l)),
      routes: res.routes.map((r) => messageToJson(RouteConfigurationSchema, r)),
      clusters: res.clusters.map((c) => messageToJson(ClusterSchema, c)),
      endpoints: res.endpoints.map((e) => messageToJson(ClusterLoadAssignmentSchema, e)),
    };
  }
  return out;
}

export function caseDirs(): string[] {
  return readdirSync(CASES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(CASES_DIR, d.name))
    .sort();
}

/** Each proxy's output lives in `<proxy>.golden.json`; UPDATE_GOLDEN=1 rewrites them. */
export function goldenPath(dir: string, proxy: string): string {
  return join(dir, `${proxy}.golden.json`);
}

export function writeGolden(dir: string, proxy: string, value: unknown): void {
  writeFileSync(goldenPath(dir, proxy), `${JSON.stringify(value, null, 2)}\n`);
}
