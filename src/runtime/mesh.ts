// The mesh daemon's core: control plane, network, pods, ingress gateway and config, kept in step with each other.

import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { ConfigMap, Deployment, KubeService } from '../api/types/index.js';
import type { Resource, ResourceRef } from '../api/types/meta.js';
import { type Clock, systemClock } from '../shared/clock.js';
import { errorMessage, TrellisError } from '../shared/errors.js';
import { type Logger, silentLogger } from '../shared/log.js';
import { cidrSize, ipToNumber, nthAddress, overlaps, parseCidr } from './cidr.js';
import type { ConfigChangeMessage, ControlPlane, StartControlPlane } from './control-plane.js';
import { searchDomains, serviceHostsEntries } from './hosts.js';
import { INGRESS_NAME, IngressGateway, ingressGateways, ingressPortMap } from './ingress.js';
import { isRuntimeKind } from './kinds.js';
import { cleanupLeftovers, killTaggedProcesses } from './leftovers.js';
import { claimLoopbackSlot, releaseLoopbackSlot } from './loopback-slot.js';
import {
  formatManifestMessage,
  hasManifestErrors,
  type LoadedManifest,
  loadManifests,
  type ManifestMessage,
} from './manifests.js';
import { chooseMode, type RequestedMode } from './mode.js';
import { HostNetworking, type MeshNetworking, NetnsNetworking, type NetworkMode } from './networking.js';
import { Pod, type PodEnvironment, type PodStatus } from './pod.js';
import { type PodPlan, podPlans } from './pod-spec.js';
import { RuntimeStore, runtimeRef, type StoredResource } from './runtime-store.js';
import { claimMesh, type MeshPaths, proxyFilesRoot, releaseMesh, writeFileAtomic } from './state-dir.js';
import { DEFAULT_RESTART_BACKOFF, type RestartBackoff } from './supervised-process.js';
import { validateRuntimeManifests } from './validate-kube.js';

export const DEFAULT_POD_CIDR = '10.213.0.0/16';
export const DEFAULT_SERVICE_CIDR = '10.214.0.0/16';
export const DEFAULT_INGRESS_PORT = 8080;

export interface MeshOptions {
  paths: MeshPaths;
  /** Folders and files of the initial manifests (Kubernetes and Istio). */
  manifests: string[];
  mode?: RequestedMode;
  podCidr?: string;
  serviceCidr?: string;
  /** Host port of the ingress gateway's main Gateway port; 0 picks a free one. */
  ingressPort?: number;
  startControlPlane: StartControlPlane;
  /** argv of the sidecar (`node bin/trellis.js proxy`); `--bootstrap <file>` is appended. */
  sidecarCommand: string[];
  trellisHome: string;
  backoff?: RestartBackoff;
  drainTimeoutMs?: number;
  /** How long a removed pod stays unready before its app is stopped, for proxies to drop the endpoint. */
  endpointDrainMs?: number;
  clock?: Clock;
  logger?: Logger;
  onProgress?: (p: MeshProgress) => void;
}

export interface MeshProgress {
  stage: 'cleanup' | 'network' | 'control-plane' | 'pods' | 'ready' | 'stopping' | 'stopped';
  text: string;
  readyPods?: number;
  totalPods?: number;
}

export type MeshPhase = 'starting' | 'running' | 'stopping' | 'stopped';

export interface MeshStatus {
  mesh: string;
  pid: number;
  phase: MeshPhase;
  mode: NetworkMode;
  modeReason: string;
  stateDir: string;
  startedAt: string;
  addresses: Record<string, string>;
  apiUrl: string;
  dashboardUrl: string;
  ingressUrl?: string;
  ingress?: ReturnType<IngressGateway['status']>;
  /** Why the ingress gateway a Gateway asks for is not running. */
  ingressProblem?: string;
  network: Record<string, string>;
  pods: PodStatus[];
}

export interface ApplyOutcome {
  ok: boolean;
  messages: ConfigChangeMessage[];
  changes: { action: string; ref: ResourceRef }[];
}

function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function toChangeMessages(messages: readonly ManifestMessage[]): ConfigChangeMessage[] {
  return messages.map((m) => ({
    severity: m.severity,
    message: formatManifestMessage(m),
    ...(m.position ? { position: m.position } : {}),
  }));
}

export class Mesh {
  readonly paths: MeshPaths;
  readonly #o: MeshOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #pods = new Map<string, Pod>();
  readonly #terminating = new Set<Pod>();
  readonly #listeners = new Set<() => void>();
  readonly #waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #networking: MeshNetworking | undefined;
  #modeReason = '';
  #cp: ControlPlane | undefined;
  #store: RuntimeStore | undefined;
  #ingress: IngressGateway | undefined;
  #ingressPort = 0;
  #ingressProblem: string | undefined;
  #slot: number | undefined;
  #phase: MeshPhase = 'starting';
  #startedAt = new Date().toISOString();
  #syncQueued = false;
  #unwatchConfig: (() => void) | undefined;
  #proxyRoot = '';
  #reconciling: Promise<void> = Promise.resolve();
  #stopped: Promise<void> | undefined;
  #lastProgress = '';
  #lastWorkloads = '';

  constructor(o: MeshOptions) {
    this.paths = o.paths;
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#log = o.logger ?? silentLogger;
  }

  get controlPlane(): ControlPlane {
    if (!this.#cp) throw new TrellisError('MESH_NOT_STARTED', 'the mesh has not started its control plane');
    return this.#cp;
  }

  get phase(): MeshPhase {
    return this.#phase;
  }

  pods(): Pod[] {
    return [...this.#pods.values()];
  }

  #progress(p: MeshProgress): void {
    const key = `${p.stage}:${p.text}`;
    if (key === this.#lastProgress) return;
    this.#lastProgress = key;
    this.#log.info(p.text);
    this.#o.onProgress?.(p);
  }

  /** Starts everything; resolves once the control plane runs and every pod has been started (not yet ready). */
  async start(): Promise<void> {
    const { stale } = claimMesh(this.paths);
    try {
      await this.#start(stale);
    } catch (e) {
      await this.stop().catch(() => undefined);
      throw e;
    }
  }

  async #start(stale: boolean): Promise<void> {
    const o = this.#o;
    const { mode, reason } = await chooseMode(o.mode ?? 'auto');
    this.#modeReason = reason;
    if (stale) {
      const removed = await cleanupLeftovers(this.paths, { network: mode === 'netns' });
      if (removed.length > 0)
        this.#progress({
          stage: 'cleanup',
          text: `cleaned up after a mesh that did not stop: ${removed.join(', ')}`,
        });
    }
    const load = loadManifests(o.manifests);
    const messages = [
      ...load.messages,
      ...validateRuntimeManifests(load.manifests.filter((m) => isRuntimeKind(m.resource.kind))),
    ];
    if (hasManifestErrors(messages)) {
      throw new TrellisError(
        'INVALID_MANIFESTS',
        `the manifests are invalid:\n${messages.map(formatManifestMessage).join('\n')}`,
      );
    }
    this.#slot = claimLoopbackSlot({ pid: process.pid, tag: this.paths.processTag });
    const podCidr = o.podCidr ?? DEFAULT_POD_CIDR;
    const serviceCidr = o.serviceCidr ?? DEFAULT_SERVICE_CIDR;
    if (overlaps(parseCidr(podCidr), parseCidr(serviceCidr))) {
      throw new TrellisError(
        'CIDR_OVERLAP',
        `the pod CIDR ${podCidr} overlaps the service CIDR ${serviceCidr}`,
      );
    }
    this.#networking =
      mode === 'netns'
        ? new NetnsNetworking({ mesh: this.paths.name, podCidr, serviceCidr, slot: this.#slot })
        : new HostNetworking({ slot: this.#slot });
    this.#progress({ stage: 'network', text: reason });
    await this.#networking.setup();
    this.#proxyRoot = proxyFilesRoot(this.paths, mode === 'netns');
    mkdirSync(this.#proxyRoot, { recursive: true, mode: 0o755 });

    this.#progress({ stage: 'control-plane', text: 'starting the control plane' });
    const cp = await o.startControlPlane({
      stateDir: this.paths.controlPlaneDir,
      configDirs: o.manifests,
      listen: { hosts: this.#networking.controlPlaneHosts, xdsPort: 0, xdsTlsPort: 0, apiPort: 0 },
      logger: this.#log.child('controlplane'),
      runtime: { status: () => this.status(), subscribe: (l) => this.subscribe(l) },
    });
    this.#cp = cp;
    writeFileAtomic(this.#caRootFile, cp.caRootPem());
    this.#progress({
      stage: 'control-plane',
      text: `control plane up: xDS ${cp.addresses.xdsTls}, API http://${cp.addresses.api}`,
    });

    this.#store = new RuntimeStore(this.paths.resourcesFile);
    const initial = load.manifests.filter((m) => isRuntimeKind(m.resource.kind));
    this.#store.apply(this.#withVips(initial.map((m) => ({ resource: m.resource, baseDir: m.baseDir }))));
    this.#ingressPort =
      o.ingressPort === undefined
        ? DEFAULT_INGRESS_PORT
        : o.ingressPort === 0
          ? await pickFreePort()
          : o.ingressPort;
    this.#unwatchConfig = cp.config.watch((e) => {
      if (e.resource.kind === 'Gateway') void this.#queueReconcile();
    });
    this.#phase = 'running';
    await this.#queueReconcile();
    this.#scheduleSync();
  }

  get #caRootFile(): string {
    return join(this.#proxyRoot, 'root-cert.pem');
  }

  get #xdsAddress(): string {
    const port = this.controlPlane.addresses.xdsTls.split(':').pop();
    return `${this.#networking!.controlPlaneHostForPods}:${port}`;
  }

  // ---- reconciling desired state ---------------------------------------------------------------------------

  #queueReconcile(): Promise<void> {
    this.#reconciling = this.#reconciling.then(
      () => this.#reconcile(),
      () => this.#reconcile(),
    );
    return this.#reconciling;
  }

  async #reconcile(): Promise<void> {
    if (this.#phase !== 'running') return;
    const store = this.#store!;
    const cp = this.controlPlane;
    cp.registry.setServices(this.#services());
    const desired = new Map<string, PodPlan>();
    for (const item of store.list({ kind: 'Deployment' })) {
      for (const plan of podPlans(item.resource as Deployment, item.baseDir)) desired.set(plan.key, plan);
    }
    for (const [key, pod] of this.#pods) {
      if (!desired.has(key)) void this.#removePod(pod);
    }
    for (const [key, plan] of desired) {
      if (!this.#pods.has(key)) this.#addPod(plan);
    }
    for (const pod of this.#pods.values()) pod.updateHosts();
    await this.#reconcileIngress();
    this.#scheduleSync();
  }

  #services(): KubeService[] {
    return this.#store!.list({ kind: 'Service' }).map((i) => i.resource as KubeService);
  }

  #withVips(items: StoredResource[]): StoredResource[] {
    const cidr = parseCidr(this.#o.serviceCidr ?? DEFAULT_SERVICE_CIDR);
    const inCidr = (ip: string | undefined) => {
      try {
        return ip !== undefined && overlaps(cidr, { base: ipToNumber(ip), prefixLen: 32, text: ip });
      } catch {
        return false;
      }
    };
    const used = new Set(
      this.#store!.list({ kind: 'Service' }).map((i) => (i.resource as KubeService).spec.clusterIP),
    );
    for (const i of items)
      if (i.resource.kind === 'Service') used.add((i.resource as KubeService).spec?.clusterIP);
    let next = 1;
    return items.map((item) => {
      if (item.resource.kind !== 'Service') return item;
      const svc = structuredClone(item.resource) as KubeService;
      svc.spec = svc.spec ?? {};
      const old = this.#store!.get(runtimeRef(svc))?.resource as KubeService | undefined;
      if (svc.spec.clusterIP === 'None') return { ...item, resource: svc };
      if (!inCidr(svc.spec.clusterIP)) {
        const kept = old?.spec.clusterIP;
        if (inCidr(kept)) svc.spec.clusterIP = kept;
        else {
          while (next <= cidrSize(cidr) && used.has(nthAddress(cidr, next))) next++;
          svc.spec.clusterIP = nthAddress(cidr, next);
          used.add(svc.spec.clusterIP);
        }
      }
      return { ...item, resource: svc };
    });
  }

  #podEnvironment(): PodEnvironment {
    const cp = this.controlPlane;
    return {
      networking: this.#networking!,
      logsDir: (key) => join(this.paths.podDir(key), 'logs'),
      proxyDir: (key) => join(this.#proxyRoot, key, 'proxy'),
      caRootFile: this.#caRootFile,
      xdsAddress: this.#xdsAddress,
      issueToken: async (o) => cp.issueWorkloadToken(o),
      hosts: (ns) => serviceHostsEntries(this.#services(), { podNamespace: ns }),
      searchDomains: (ns) => searchDomains(ns),
      configMaps: (ns) =>
        new Map(
          this.#store!.list({ kind: 'ConfigMap', namespace: ns }).map((i) => [
            i.resource.metadata.name,
            (i.resource as ConfigMap).spec.data ?? {},
          ]),
        ),
      sidecarCommand: this.#o.sidecarCommand,
      trellisHome: this.#o.trellisHome,
      processTag: this.paths.processTag,
      backoff: this.#o.backoff ?? DEFAULT_RESTART_BACKOFF,
      drainTimeoutMs: this.#o.drainTimeoutMs ?? 5000,
      clock: this.#clock,
      logger: this.#log.child('pod'),
      onChange: () => this.#scheduleSync(),
    };
  }

  #addPod(plan: PodPlan): void {
    const { index, addresses } = this.#networking!.allocate();
    const pod = new Pod({ plan, index, addresses, env: this.#podEnvironment() });
    this.#pods.set(plan.key, pod);
    void pod.start();
  }

  async #removePod(pod: Pod): Promise<void> {
    this.#pods.delete(pod.plan.key);
    this.#terminating.add(pod);
    try {
      await pod.stop(this.#o.endpointDrainMs ?? 1000);
    } catch (e) {
      this.#log.warn('pod did not stop cleanly', { pod: pod.plan.name, error: errorMessage(e) });
    } finally {
      this.#terminating.delete(pod);
      this.#networking?.release(pod.index);
      this.#scheduleSync();
    }
  }

  async #reconcileIngress(): Promise<void> {
    const gateways = ingressGateways(this.controlPlane.config.list({ kind: 'Gateway' }));
    const portMap = ingressPortMap(gateways, this.#ingressPort);
    const want = Object.keys(portMap).length > 0;
    const same = this.#ingress && JSON.stringify(this.#ingress.portMap) === JSON.stringify(portMap);
    if (this.#ingress && (!want || !same)) {
      const old = this.#ingress;
      this.#ingress = undefined;
      await old.stop();
    }
    this.#ingressProblem = undefined;
    if (want && !this.#ingress) {
      const busy: string[] = [];
      for (const port of Object.values(portMap))
        if (!(await portFree(Number(port)))) busy.push(`127.0.0.1:${port}`);
      if (busy.length > 0) {
        this.#ingressProblem = `the ingress gateway cannot listen on ${busy.join(', ')}: in use by another mesh or program; choose another --ingress-port (0 picks a free one)`;
        this.#log.error(this.#ingressProblem);
        return;
      }
      const cp = this.controlPlane;
      const token = await cp.issueWorkloadToken({
        namespace: 'istio-system',
        serviceAccount: `${INGRESS_NAME}-service-account`,
        podName: `${INGRESS_NAME}-0`,
        podUid: `${this.paths.processTag}-ingress`,
      });
      this.#ingress = new IngressGateway({
        address: this.#networking!.gatewayAddress,
        portMap,
        dir: join(this.#proxyRoot, `istio-system.${INGRESS_NAME}-0`, 'proxy'),
        logFile: join(this.paths.podDir(`istio-system.${INGRESS_NAME}-0`), 'logs', 'istio-proxy.log'),
        xdsAddress: `127.0.0.1:${cp.addresses.xdsTls.split(':').pop()}`,
        caRootFile: this.#caRootFile,
        token,
        sidecarCommand: this.#o.sidecarCommand,
        processTag: this.paths.processTag,
        backoff: this.#o.backoff ?? DEFAULT_RESTART_BACKOFF,
        drainTimeoutMs: this.#o.drainTimeoutMs ?? 5000,
        clock: this.#clock,
        onChange: () => this.#scheduleSync(),
      });
      this.#ingress.start();
    }
  }

  // ---- config changes --------------------------------------------------------------------------------------

  /** Applies a batch atomically: runtime kinds are checked here, the rest by the control plane's store. */
  async apply(manifests: readonly LoadedManifest[]): Promise<ApplyOutcome> {
    const runtime = manifests.filter((m) => isRuntimeKind(m.resource.kind));
    const pods = manifests.filter((m) => m.resource.kind === 'Pod');
    const other = manifests.filter((m) => !isRuntimeKind(m.resource.kind) && m.resource.kind !== 'Pod');
    const refused: ManifestMessage[] = [
      ...pods.map((m) => ({
        severity: 'error' as const,
        message: `Pod ${m.resource.metadata.name}: pods are made from Deployments; apply a Deployment instead`,
        position: m.position,
      })),
      ...validateRuntimeManifests(runtime),
    ];
    if (hasManifestErrors(refused)) return { ok: false, messages: toChangeMessages(refused), changes: [] };
    const changes: ApplyOutcome['changes'] = [];
    const messages: ConfigChangeMessage[] = toChangeMessages(refused);
    if (other.length > 0) {
      const res = await this.controlPlane.config.apply(other.map((m) => m.resource));
      // The store saw resources, not files: point its messages back at the manifests they came from.
      const positions = new Map(other.map((m) => [key(runtimeRef(m.resource)), m.position]));
      messages.push(
        ...res.messages.map((msg) => {
          const at = msg.position ?? (msg.resource ? positions.get(key(msg.resource)) : undefined);
          return at ? { ...msg, position: at } : msg;
        }),
      );
      if (!res.ok) return { ok: false, messages, changes: [] };
      const changed = new Map(res.events.map((e) => [key(runtimeRef(e.resource)), e.type]));
      for (const m of other) {
        const ref = runtimeRef(m.resource);
        const t = changed.get(key(ref));
        changes.push({
          action: t === 'added' ? 'created' : t === 'modified' ? 'configured' : 'unchanged',
          ref,
        });
      }
    }
    if (runtime.length > 0) {
      changes.push(
        ...this.#store!.apply(
          this.#withVips(runtime.map((m) => ({ resource: m.resource, baseDir: m.baseDir }))),
        ),
      );
      await this.#queueReconcile();
    }
    return { ok: true, messages, changes };
  }

  async delete(refs: readonly ResourceRef[]): Promise<ApplyOutcome> {
    const runtime = refs.filter((r) => isRuntimeKind(r.kind));
    const other = refs.filter((r) => !isRuntimeKind(r.kind));
    const missing = runtime.filter((r) => !this.#store!.has(r));
    if (missing.length > 0) {
      return {
        ok: false,
        messages: missing.map((r) => ({
          severity: 'error',
          message: `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name} not found`,
        })),
        changes: [],
      };
    }
    const messages: ConfigChangeMessage[] = [];
    const changes: ApplyOutcome['changes'] = [];
    if (other.length > 0) {
      const res = await this.controlPlane.config.delete(other);
      messages.push(...res.messages);
      if (!res.ok) return { ok: false, messages, changes: [] };
      for (const r of other) changes.push({ action: 'deleted', ref: r });
    }
    if (runtime.length > 0) {
      changes.push(...this.#store!.delete(runtime));
      await this.#queueReconcile();
    }
    return { ok: true, messages, changes };
  }

  /** Resources of one kind (runtime kinds from the runtime's store, Istio kinds from the control plane's). */
  list(kind: string, namespace?: string): Resource[] {
    if (isRuntimeKind(kind))
      return this.#store!.list({ kind, ...(namespace ? { namespace } : {}) }).map((i) => i.resource);
    return [...this.controlPlane.config.list({ kind, ...(namespace ? { namespace } : {}) })];
  }

  // ---- status ----------------------------------------------------------------------------------------------

  #scheduleSync(): void {
    if (this.#syncQueued) return;
    this.#syncQueued = true;
    setImmediate(() => {
      this.#syncQueued = false;
      this.#sync();
    });
  }

  #sync(): void {
    if (this.#cp && this.#phase === 'running') {
      const workloads = [...this.#pods.values(), ...this.#terminating].map((p) => p.workload());
      if (this.#ingress) workloads.push(this.#ingress.workload());
      // Status messages change often while pods start; the registry only hears of changes it cares about.
      const fingerprint = JSON.stringify(workloads);
      if (fingerprint !== this.#lastWorkloads) {
        this.#lastWorkloads = fingerprint;
        this.#cp.registry.setWorkloads(workloads);
      }
    }
    if (this.#phase === 'running' || this.#phase === 'starting') {
      try {
        writeFileAtomic(this.paths.statusFile, `${JSON.stringify(this.status(), null, 2)}\n`);
      } catch (e) {
        this.#log.warn('cannot write status.json', { error: errorMessage(e) });
      }
    }
    const { ready, total } = this.#readiness();
    if (this.#phase === 'running') {
      this.#progress({
        stage: 'pods',
        text: `pods ready: ${ready} of ${total}${this.#ingress ? `, ingress gateway ${this.#ingress.ready ? 'ready' : 'starting'}` : ''}`,
        readyPods: ready,
        totalPods: total,
      });
    }
    if (this.#phase === 'running' && this.allReady()) {
      for (const w of this.#waiters.splice(0)) w.resolve();
    }
    for (const l of this.#listeners) l();
  }

  #readiness(): { ready: number; total: number } {
    const pods = [...this.#pods.values()].filter((p) => p.phase !== 'Succeeded');
    return { ready: pods.filter((p) => p.ready).length, total: pods.length };
  }

  /** Every pod is ready (or completed) and the ingress gateway, if any, answers ready. */
  allReady(): boolean {
    const { ready, total } = this.#readiness();
    return (
      ready === total &&
      this.#terminating.size === 0 &&
      !this.#ingressProblem &&
      (!this.#ingress || this.#ingress.ready)
    );
  }

  /** Resolves when allReady(); rejects after timeoutMs with the pods that are not ready and why. */
  waitReady(timeoutMs: number): Promise<void> {
    if (this.#phase === 'running' && this.allReady()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(
          new TrellisError(
            'MESH_NOT_READY',
            `not ready after ${Math.round(timeoutMs / 1000)} s: ${this.unreadySummary()}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  unreadySummary(): string {
    const parts = [...this.#pods.values()]
      .filter((p) => !p.ready && p.phase !== 'Succeeded')
      .map((p) => {
        const s = p.status();
        return `${s.namespace}/${s.name} (${s.message ?? s.phase}; logs in ${join(this.paths.podDir(p.plan.key), 'logs')})`;
      });
    if (this.#ingressProblem) parts.push(this.#ingressProblem);
    if (this.#ingress && !this.#ingress.ready)
      parts.push(`ingress gateway (logs in ${this.#ingress.status().log})`);
    return parts.join('; ') || 'nothing is pending';
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  findPod(name: string, namespace?: string): Pod | undefined {
    const all = [...this.#pods.values()];
    const inNs = (p: Pod) => !namespace || p.plan.namespace === namespace;
    const exact = all.filter((p) => p.plan.name === name && inNs(p));
    if (exact.length > 0) return exact.find((p) => p.plan.namespace === 'default') ?? exact[0];
    const m = /^(?:deploy|deployment|deployments)(?:\.apps)?\/(.+)$/.exec(name);
    const deployment = m ? m[1] : name;
    const owned = all
      .filter((p) => p.plan.deployment === deployment && inNs(p))
      .sort((a, b) => a.plan.replica - b.plan.replica);
    return owned.find((p) => p.ready) ?? owned[0];
  }

  status(): MeshStatus {
    const cp = this.#cp;
    const addresses: Record<string, string> = cp
      ? { xds: cp.addresses.xds, xdsTls: cp.addresses.xdsTls, api: cp.addresses.api }
      : {};
    const ingress = this.#ingress?.status();
    const mainPort = ingress
      ? Object.values(ingress.portMap).find((p) => p === String(this.#ingressPort))
      : undefined;
    if (mainPort) addresses.ingress = `127.0.0.1:${mainPort}`;
    return {
      mesh: this.paths.name,
      pid: process.pid,
      phase: this.#phase,
      mode: this.#networking?.mode ?? 'host',
      modeReason: this.#modeReason,
      stateDir: this.paths.root,
      startedAt: this.#startedAt,
      addresses,
      apiUrl: cp ? `http://${cp.addresses.api}/api/v1` : '',
      dashboardUrl: cp ? `http://${cp.addresses.api}/` : '',
      ...(mainPort ? { ingressUrl: `http://127.0.0.1:${mainPort}` } : {}),
      ...(ingress ? { ingress } : {}),
      ...(this.#ingressProblem ? { ingressProblem: this.#ingressProblem } : {}),
      network: this.#networking?.describe() ?? {},
      pods: [...this.#pods.values(), ...this.#terminating]
        .map((p) => p.status())
        .sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1)),
    };
  }

  // ---- stopping --------------------------------------------------------------------------------------------

  /** Apps first, then sidecars and the gateway (draining), then the control plane, then the network. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#phase = 'stopping';
    this.#progress({
      stage: 'stopping',
      text: 'stopping: apps first, then sidecars, then the control plane',
    });
    for (const w of this.#waiters.splice(0))
      w.reject(new TrellisError('MESH_STOPPING', 'the mesh is stopping'));
    this.#unwatchConfig?.();
    await this.#reconciling.catch(() => undefined);
    const pods = [...this.#pods.values(), ...this.#terminating];
    await Promise.all(pods.map((p) => p.beginStop()));
    await Promise.all(pods.map((p) => p.stopApps()));
    await Promise.all([...pods.map((p) => p.stopProxy()), this.#ingress?.stop()]);
    try {
      await this.#cp?.stop();
    } catch (e) {
      this.#log.warn('control plane did not stop cleanly', { error: errorMessage(e) });
    }
    await Promise.all(pods.map((p) => p.destroy().catch(() => undefined)));
    const stray = killTaggedProcesses(this.paths.processTag);
    if (stray.length > 0) this.#log.warn('killed processes left by apps', { pids: stray });
    const removed = (await this.#networking?.teardown()) ?? [];
    if (this.#proxyRoot.startsWith('/run/trellis/'))
      rmSync(this.#proxyRoot, { recursive: true, force: true });
    if (this.#slot !== undefined) releaseLoopbackSlot(this.#slot);
    this.#phase = 'stopped';
    rmSync(this.paths.statusFile, { force: true });
    releaseMesh(this.paths);
    this.#progress({
      stage: 'stopped',
      text: `stopped${removed.length > 0 ? `; removed ${removed.join(', ')}` : ''}`,
    });
    for (const l of this.#listeners) l();
  }
}

function key(ref: ResourceRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}
