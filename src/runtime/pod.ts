// One pod: network, token and bootstrap, the sidecar, then the app containers once the sidecar is ready, probes,
// restarts, job completion, and an orderly stop (app first, then the draining sidecar).

import { randomUUID } from 'node:crypto';
import { chownSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Container } from '../api/types/index.js';
import type { Workload } from '../registry/model.js';
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import { type Logger, silentLogger } from '../shared/log.js';
import { SIDECAR_PORTS, sidecarBootstrap } from './bootstrap.js';
import { containerArgv, containerEnv, runtimeVariables } from './env.js';
import { RotatingLog } from './log-file.js';
import type { HostsEntry } from './network/netns.js';
import type { MeshNetworking, PodAddresses, PodNet } from './networking.js';
import { containerPorts, type PodPlan } from './pod-spec.js';
import {
  defaultProbe,
  describeProbe,
  httpCheck,
  type ProbeTarget,
  ReadinessLoop,
  runProbe,
} from './probe.js';
import { writeFileAtomic } from './state-dir.js';
import { type RestartBackoff, SupervisedProcess } from './supervised-process.js';

export const PROXY_UID = 1337;

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Terminating';

export interface ContainerStatus {
  name: string;
  role: 'app' | 'proxy';
  ready: boolean;
  state: string;
  pid?: number;
  restarts: number;
  exitCode?: number | null;
}

export interface PodStatus {
  name: string;
  namespace: string;
  deployment: string;
  /** The same as deployment (the dashboard's name for it). */
  workload: string;
  labels: Record<string, string>;
  ip: string;
  ips: string[];
  ready: boolean;
  phase: PodPhase;
  restarts: number;
  containers: ContainerStatus[];
  /** The sidecar's admin (unix socket) and Prometheus stats addresses; absent without a sidecar. */
  sidecar?: { admin: string; adminSocket: string; stats: string; readiness: string };
  /** Why the pod is not ready or not running, in words. */
  message?: string;
  locality?: string;
}

/** What every pod needs from the mesh around it. */
export interface PodEnvironment {
  networking: MeshNetworking;
  logsDir: (podKey: string) => string;
  /** Folder of the sidecar's token, bootstrap and admin socket (reachable by uid 1337 in netns mode). */
  proxyDir: (podKey: string) => string;
  caRootFile: string;
  xdsAddress: string;
  issueToken: (o: {
    namespace: string;
    serviceAccount: string;
    podName: string;
    podUid: string;
  }) => Promise<string>;
  hosts: (namespace: string) => HostsEntry[];
  searchDomains: (namespace: string) => string[];
  configMaps: (namespace: string) => ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** argv of the sidecar program; `--bootstrap <file>` is appended. */
  sidecarCommand: string[];
  trellisHome: string;
  /** Put in every process's env, so the processes of a crashed daemon can be found. */
  processTag: string;
  backoff: RestartBackoff;
  drainTimeoutMs: number;
  clock: Clock;
  logger?: Logger;
  onChange: () => void;
}

export interface PodOptions {
  plan: PodPlan;
  index: number;
  addresses: PodAddresses;
  env: PodEnvironment;
}

interface AppContainer {
  spec: Container;
  process: SupervisedProcess;
  readiness: ReadinessLoop | undefined;
  ready: boolean;
}

export class Pod {
  readonly plan: PodPlan;
  readonly index: number;
  readonly addresses: PodAddresses;
  readonly uid = randomUUID();
  readonly #env: PodEnvironment;
  readonly #log: Logger;
  #net: PodNet | undefined;
  #netCreation: Promise<PodNet> | undefined;
  #sidecar: SupervisedProcess | undefined;
  #sidecarReadiness: ReadinessLoop | undefined;
  #sidecarReady = false;
  #apps: AppContainer[] = [];
  #phase: PodPhase = 'Pending';
  #message: string | undefined = 'starting';
  #stopping = false;
  #logs: RotatingLog[] = [];

  constructor(o: PodOptions) {
    this.plan = o.plan;
    this.index = o.index;
    this.addresses = o.addresses;
    this.#env = o.env;
    this.#log = (o.env.logger ?? silentLogger).child(o.plan.name);
  }

  get ready(): boolean {
    return (
      this.#phase === 'Running' &&
      (!this.plan.hasSidecar || this.#sidecarReady) &&
      this.#apps.length > 0 &&
      this.#apps.every((a) => a.ready)
    );
  }

  get phase(): PodPhase {
    return this.#phase;
  }

  get execPrefix(): string[] {
    return this.#net?.execPrefix ?? [];
  }

  get #proxyDir(): string {
    return this.#env.proxyDir(this.plan.key);
  }

  get adminSocket(): string {
    return join(this.#proxyDir, 'admin.sock');
  }

  logFile(container: string): string {
    return join(this.#env.logsDir(this.plan.key), `${container}.log`);
  }

  /** The variables every container of this pod sees (also `trellis exec`'s). */
  runtimeEnv(): Record<string, string> {
    const host = this.#env.networking.mode === 'host';
    return runtimeVariables({
      trellisHome: this.#env.trellisHome,
      podName: this.plan.name,
      namespace: this.plan.namespace,
      instanceIp: host ? this.addresses.appAddress : this.addresses.ip,
      serviceAccount: this.plan.serviceAccount,
      ...(host ? { bindAddress: this.addresses.appAddress } : {}),
      ...(host && this.plan.hasSidecar
        ? { httpProxy: `http://${this.addresses.sidecarAddress}:${SIDECAR_PORTS.explicitHttpProxy}` }
        : {}),
    });
  }

  containerEnv(c: Container): Record<string, string> {
    return {
      ...containerEnv({
        container: c,
        runtime: this.runtimeEnv(),
        labels: this.plan.labels,
        configMaps: this.#env.configMaps(this.plan.namespace),
        hostPath: process.env.PATH ?? '/usr/bin:/bin',
      }),
      TRELLIS_PROCESS_TAG: this.#env.processTag,
    };
  }

  workload(): Workload {
    const p = this.plan;
    return {
      name: p.name,
      namespace: p.namespace,
      labels: p.labels,
      annotations: p.annotations,
      ip: this.addresses.ip,
      serviceAccount: p.serviceAccount,
      workloadName: p.deployment,
      containerPorts: containerPorts(p).map((c) => ({
        port: c.containerPort,
        ...(c.name ? { name: c.name } : {}),
      })),
      ready: this.ready,
      hasSidecar: p.hasSidecar,
      ...(p.locality ? { locality: p.locality } : {}),
    };
  }

  #changed(message?: string): void {
    if (message !== undefined) this.#message = message;
    this.#env.onChange();
  }

  #newLog(container: string): RotatingLog {
    const log = new RotatingLog({ path: this.logFile(container) });
    this.#logs.push(log);
    return log;
  }

  /** Runs the pod's lifecycle up to starting its apps; readiness follows asynchronously. Never throws. */
  async start(): Promise<void> {
    try {
      const missing = this.plan.containers.filter((c) => !c.command?.length && !c.args?.length);
      if (missing.length > 0) {
        throw new Error(
          `container ${missing.map((c) => c.name).join(', ')} of Deployment ${this.plan.namespace}/${this.plan.deployment} has no command; the local runtime runs commands, not images`,
        );
      }
      this.#changed('creating the network');
      const creating = this.#env.networking.createPod({
        podKey: this.plan.key,
        addresses: this.addresses,
        hosts: this.#env.hosts(this.plan.namespace),
        searchDomains: this.#env.searchDomains(this.plan.namespace),
        capture: this.plan.hasSidecar,
      });
      this.#netCreation = creating;
      this.#net = await creating;
      if (this.#stopping) return;
      this.#phase = 'Running';
      if (this.plan.hasSidecar) {
        await this.#startSidecar();
        if (this.#stopping) return;
        this.#changed('waiting for the sidecar to be ready');
        await this.#sidecarFirstReady();
        if (this.#stopping) return;
      }
      this.#startApps();
    } catch (e) {
      if (this.#stopping) return;
      this.#phase = 'Failed';
      this.#log.error('pod failed to start', { error: errorMessage(e) });
      this.#changed(errorMessage(e));
    }
  }

  async #startSidecar(): Promise<void> {
    const dir = this.#proxyDir;
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const netns = this.#env.networking.mode === 'netns';
    const token = await this.#env.issueToken({
      namespace: this.plan.namespace,
      serviceAccount: this.plan.serviceAccount,
      podName: this.plan.name,
      podUid: this.uid,
    });
    if (this.#stopping) return;
    const tokenFile = join(dir, 'token');
    writeFileAtomic(tokenFile, token, 0o600);
    const bootstrap = sidecarBootstrap({
      identity: {
        podName: this.plan.name,
        namespace: this.plan.namespace,
        workloadName: this.plan.deployment,
        serviceAccount: this.plan.serviceAccount,
        labels: this.plan.labels,
        ip: this.addresses.ip,
        ...(this.plan.locality ? { locality: this.plan.locality } : {}),
        containerPorts: containerPorts(this.plan),
        appContainers: this.plan.containers.map((c) => c.name),
      },
      xdsAddress: this.#env.xdsAddress,
      caCertificateFile: this.#env.caRootFile,
      tokenFile,
      adminSocketPath: this.adminSocket,
      mode: netns ? 'netns' : 'host',
      appAddress: this.addresses.appAddress,
      ...appMetrics(this.plan),
      drainTimeoutMs: this.#env.drainTimeoutMs,
    });
    const bootstrapFile = join(dir, 'bootstrap.json');
    writeFileAtomic(bootstrapFile, `${JSON.stringify(bootstrap, null, 2)}\n`);
    if (netns) for (const f of [dir, tokenFile, bootstrapFile]) chownSync(f, PROXY_UID, PROXY_UID);
    const argv = [
      ...this.execPrefix,
      ...(netns ? ['setpriv', `--reuid=${PROXY_UID}`, `--regid=${PROXY_UID}`, '--clear-groups'] : []),
      ...this.#env.sidecarCommand,
      '--bootstrap',
      bootstrapFile,
    ];
    const proc = new SupervisedProcess({
      name: 'istio-proxy',
      argv,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: '/',
        TRELLIS_PROCESS_TAG: this.#env.processTag,
        ...(process.env.TRELLIS_LOG_LEVEL ? { TRELLIS_LOG_LEVEL: process.env.TRELLIS_LOG_LEVEL } : {}),
      },
      cwd: dir,
      log: this.#newLog('istio-proxy'),
      restartPolicy: 'Always',
      backoff: this.#env.backoff,
      clock: this.#env.clock,
    });
    this.#sidecar = proc;
    proc.on('exit', (info) => {
      this.#sidecarReadiness?.stop();
      this.#sidecarReadiness = undefined;
      this.#sidecarReady = false;
      if (!this.#stopping && info.restartInMs !== undefined)
        this.#changed(`sidecar exited (${info.code ?? info.signal}); restarting in ${info.restartInMs} ms`);
      else this.#changed();
    });
    proc.on('start', () => this.#watchSidecar());
    proc.start();
  }

  #sidecarCheck(): Promise<boolean> {
    return httpCheck({
      host: this.addresses.sidecarAddress,
      port: SIDECAR_PORTS.readiness,
      path: '/healthz/ready',
      timeoutMs: 1000,
    });
  }

  /** The app waits for this (Istio's holdApplicationUntilProxyStarts, on by default). */
  #sidecarFirstReady(): Promise<void> {
    if (this.#sidecarReady) return Promise.resolve();
    return new Promise((resolve) => this.#stopResolvers.push(resolve));
  }

  #stopResolvers: (() => void)[] = [];

  /** Probes the sidecar's readiness port from each (re)start of the sidecar on. */
  #watchSidecar(): void {
    this.#sidecarReadiness?.stop();
    const loop = new ReadinessLoop({
      check: () => this.#sidecarCheck(),
      probe: { periodSeconds: 5, failureThreshold: 2 },
      clock: this.#env.clock,
      startupIntervalMs: 100,
      onChange: (ready) => {
        this.#sidecarReady = ready;
        if (ready) {
          for (const r of this.#stopResolvers.splice(0)) r();
        }
        this.#changed(ready ? this.#readyMessage() : 'sidecar not ready');
      },
    });
    this.#sidecarReadiness = loop;
    loop.start();
  }

  #readyMessage(): string | undefined {
    return this.ready ? undefined : this.#message;
  }

  #startApps(): void {
    this.#changed('starting the app');
    for (const spec of this.plan.containers) {
      const env = this.containerEnv(spec);
      const argv = [...this.execPrefix, ...containerArgv(spec, env)];
      const proc = new SupervisedProcess({
        name: spec.name,
        argv,
        env,
        cwd: resolve(this.plan.baseDir, spec.workingDir ?? '.'),
        log: this.#newLog(spec.name),
        restartPolicy: this.plan.restartPolicy,
        backoff: this.#env.backoff,
        clock: this.#env.clock,
      });
      const app: AppContainer = { spec, process: proc, readiness: undefined, ready: false };
      this.#apps.push(app);
      proc.on('start', () => this.#probe(app, env));
      proc.on('exit', (info) => {
        app.readiness?.stop();
        app.readiness = undefined;
        app.ready = false;
        if (this.#stopping) return;
        if (info.restartInMs !== undefined) {
          this.#changed(
            `container ${spec.name} exited (${info.code ?? info.signal}); restarting in ${info.restartInMs} ms`,
          );
          return;
        }
        void this.#maybeComplete();
      });
      proc.start();
    }
  }

  #probe(app: AppContainer, env: Record<string, string>): void {
    const ports = (app.spec.ports ?? []).map((p) => p.containerPort);
    const target: ProbeTarget = {
      host: this.addresses.appAddress,
      ...(this.#env.networking.proberAddress ? { localAddress: this.#env.networking.proberAddress } : {}),
      namedPorts: new Map(
        (app.spec.ports ?? []).filter((p) => p.name).map((p) => [p.name!, p.containerPort]),
      ),
      execPrefix: this.execPrefix,
      env,
      cwd: resolve(this.plan.baseDir, app.spec.workingDir ?? '.'),
    };
    const probe = app.spec.readinessProbe;
    const check = probe ? () => runProbe(probe, target) : () => defaultProbe(ports)(target);
    this.#changed(`container ${app.spec.name} is waiting for ${describeProbe(probe, ports)}`);
    app.readiness = new ReadinessLoop({
      check,
      ...(probe ? { probe } : {}),
      clock: this.#env.clock,
      onChange: (ready) => {
        app.ready = ready;
        this.#changed(
          ready ? undefined : `container ${app.spec.name} is not ready: ${describeProbe(probe, ports)} fails`,
        );
        if (this.ready) this.#message = undefined;
      },
    });
    app.readiness.start();
  }

  /** A job-like pod (restartPolicy Never/OnFailure) ends when every app container has ended; its sidecar exits too. */
  async #maybeComplete(): Promise<void> {
    const states = this.#apps.map((a) => a.process.state);
    if (!states.every((s) => s === 'completed' || s === 'failed')) {
      this.#changed(
        `container ${this.#apps.find((a) => a.process.state === 'completed' || a.process.state === 'failed')?.spec.name} ended`,
      );
      return;
    }
    const failed = states.includes('failed');
    this.#phase = failed ? 'Failed' : 'Succeeded';
    this.#changed(failed ? 'an app container failed and the restart policy keeps it down' : 'completed');
    this.#sidecarReadiness?.stop();
    this.#sidecarReadiness = undefined;
    this.#sidecarReady = false;
    await this.#sidecar?.stop(this.#env.drainTimeoutMs + 2000);
    this.#changed();
  }

  /**
   * Leaves the endpoints first (unready, then `drainEndpointsMs` for proxies to learn it), so no request is sent
   * to an app that is shutting down; the phases are separate so the mesh can stop every app before any sidecar.
   */
  async beginStop(drainEndpointsMs = 0): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#phase !== 'Succeeded' && this.#phase !== 'Failed') this.#phase = 'Terminating';
    for (const r of this.#stopResolvers.splice(0)) r();
    this.#changed('terminating');
    if (drainEndpointsMs > 0) await new Promise((r) => setTimeout(r, drainEndpointsMs));
  }

  async stopApps(): Promise<void> {
    await Promise.all(
      this.#apps.map((a) => {
        a.readiness?.stop();
        return a.process.stop(this.plan.terminationGraceMs);
      }),
    );
  }

  /** SIGTERM makes the sidecar drain (finish in-flight requests up to drainTimeoutMs) and exit. */
  async stopProxy(): Promise<void> {
    this.#sidecarReadiness?.stop();
    await this.#sidecar?.stop(this.#env.drainTimeoutMs + 2000);
  }

  async destroy(): Promise<void> {
    await this.#netCreation?.catch(() => undefined);
    await this.#net?.destroy();
    for (const l of this.#logs) l.close();
    rmSync(this.#proxyDir, { recursive: true, force: true });
  }

  /** App first (so nothing new is sent through a draining proxy), then the sidecar, then the network. */
  async stop(drainEndpointsMs = 0): Promise<void> {
    await this.beginStop(drainEndpointsMs);
    await this.stopApps();
    await this.stopProxy();
    await this.destroy();
  }

  updateHosts(): void {
    this.#net?.updateHosts(this.#env.hosts(this.plan.namespace));
  }

  status(): PodStatus {
    const containers: ContainerStatus[] = [];
    if (this.#sidecar) {
      containers.push({
        name: 'istio-proxy',
        role: 'proxy',
        ready: this.#sidecarReady,
        state: this.#sidecar.state,
        restarts: this.#sidecar.restarts,
        ...(this.#sidecar.pid !== undefined ? { pid: this.#sidecar.pid } : {}),
        ...(this.#sidecar.lastExit ? { exitCode: this.#sidecar.lastExit.code } : {}),
      });
    }
    for (const a of this.#apps) {
      containers.push({
        name: a.spec.name,
        role: 'app',
        ready: a.ready,
        state: a.process.state,
        restarts: a.process.restarts,
        ...(a.process.pid !== undefined ? { pid: a.process.pid } : {}),
        ...(a.process.lastExit ? { exitCode: a.process.lastExit.code } : {}),
      });
    }
    const ready = this.ready;
    return {
      name: this.plan.name,
      namespace: this.plan.namespace,
      deployment: this.plan.deployment,
      workload: this.plan.deployment,
      labels: this.plan.labels,
      ip: this.addresses.ip,
      ips: [this.addresses.ip],
      ready,
      phase: this.#phase,
      restarts: containers.reduce((n, c) => n + c.restarts, 0),
      containers,
      ...(this.plan.hasSidecar
        ? {
            sidecar: {
              admin: `unix:${this.adminSocket}`,
              adminSocket: this.adminSocket,
              stats: `${this.addresses.sidecarAddress}:${SIDECAR_PORTS.stats}`,
              readiness: `${this.addresses.sidecarAddress}:${SIDECAR_PORTS.readiness}`,
            },
          }
        : {}),
      ...(!ready && this.#message ? { message: this.#message } : {}),
      ...(this.plan.locality ? { locality: this.plan.locality } : {}),
    };
  }
}

/** Istio's prometheus.io annotations tell the sidecar where to scrape the app for merged metrics. */
function appMetrics(p: PodPlan): { appMetrics?: { port: number; path: string } } {
  const a = p.annotations;
  if (a['prometheus.io/scrape'] !== 'true' || !a['prometheus.io/port']) return {};
  return {
    appMetrics: { port: Number(a['prometheus.io/port']), path: a['prometheus.io/path'] ?? '/metrics' },
  };
}
