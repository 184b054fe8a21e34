// The sidecar process assembled: identity, xDS, cluster manager, listeners, telemetry, admin, lifecycle.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { JsonObject } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { type Clock, systemClock } from '../../shared/clock.js';
import { errorMessage, TrellisError } from '../../shared/errors.js';
import { createLogger, type Logger, type LogLevel } from '../../shared/log.js';
import { workloadId } from '../../shared/spiffe.js';
import { AdminServer } from '../admin/admin-server.js';
import type { AdminContext, ServerState } from '../admin/context.js';
import { HealthServers } from '../admin/health-servers.js';
import type { DecodeOptions } from '../config/decode/index.js';
import type { SidecarConfig } from '../config/model.js';
import { DeadlineSweeper } from '../http/deadlines.js';
import { createHttpConnectionManagerFactory, securityPipelineOptions } from '../http/pipeline/index.js';
import { GrpcCaClient } from '../identity/ca-client.js';
import { IdentityAgent } from '../identity/identity-agent.js';
import type { WorkloadSecrets } from '../identity/secrets.js';
import { type BoundListener, ListenerManager } from '../listener/listener-manager.js';
import type { ManagedCluster } from '../upstream/cluster/cluster.js';
import { SidecarClusterManager } from '../upstream/cluster/cluster-manager.js';
import type { LookupAll } from '../upstream/cluster/dns-hosts.js';
import { UpstreamTlsProvider } from '../upstream/cluster/upstream-tls.js';
import type { ResourceKind, ResourceState, XdsSnapshot } from '../xds-client/types.js';
import { XdsClient, type XdsClientStatus } from '../xds-client/xds-client.js';
import type { Bootstrap } from './bootstrap.js';
import { configFromSnapshot, type SidecarResourceTypes, sidecarDecoders } from './config-source.js';
import type { HttpConnectionManagerFactory, PipelineDeps } from './contracts.js';
import { AdjustableLogger } from './log-level.js';
import { localFacts, nodeLabels, proxyTypeOf, workloadIdentityOf } from './node-facts.js';
import { SidecarTelemetrySinks } from './telemetry.js';

export interface SidecarOptions {
  bootstrap: Bootstrap;
  /** Builds the HCM of each HTTP filter chain; the full pipeline with the security engines by default. */
  hcmFactory?: HttpConnectionManagerFactory;
  version?: string;
  clock?: Clock;
  random?: () => number;
  /** Writes every level; the sidecar filters by `logLevel` (changeable through `/logging`). */
  logger?: Logger;
  logLevel?: LogLevel;
  /** DNS for STRICT_DNS / LOGICAL_DNS clusters (tests inject one). */
  lookup?: LookupAll;
  decode?: DecodeOptions;
  /** xDS reconnect backoff (Envoy's 500 ms – 30 s by default). */
  xdsBackoff?: { baseMs?: number; maxMs?: number };
  /** CA retry backoff while it is unreachable (500 ms – 30 s by default). */
  caRetry?: { baseMs: number; maxMs: number };
  warmingTimeoutMs?: number;
  /** The process should end with this code (`/quitquitquit`, or after a SIGTERM drain). */
  onExit?: (code: number) => void;
}

/** Istio's name for the control plane in its serving certificate; dialled by IP, TLS verifies this name. */
const ISTIOD_NAME = 'istiod.istio-system.svc';

function hostOf(address: string): string {
  const m = /^\[([^\]]+)\]:\d+$/.exec(address);
  return m ? m[1]! : address.slice(0, address.lastIndexOf(':'));
}

export class Sidecar implements AdminContext {
  readonly bootstrap: Bootstrap;
  readonly startedAt: number;
  readonly version: string;
  readonly telemetry: SidecarTelemetrySinks;
  readonly logger: AdjustableLogger;
  readonly #opts: SidecarOptions;
  readonly #clock: Clock;
  readonly #clusters: SidecarClusterManager;
  readonly #listeners: ListenerManager;
  readonly #admin: AdminServer;
  readonly #health: HealthServers;
  readonly #agent: IdentityAgent | undefined;
  #xds: XdsClient<SidecarResourceTypes> | undefined;
  #config: SidecarConfig | undefined;
  #state: ServerState = 'PRE_INITIALIZING';
  #latest: XdsSnapshot<SidecarResourceTypes> | undefined;
  #applied: XdsSnapshot<SidecarResourceTypes> | undefined;
  #applying: Promise<void> | undefined;
  #syncedSequence: number | undefined;
  #ready = false;
  #readyWaiters: (() => void)[] = [];
  #draining: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #adminPort = 0;

  /** Starts everything and resolves once the admin ports are up (config and certificates come after). */
  static async start(opts: SidecarOptions): Promise<Sidecar> {
    const sidecar = new Sidecar(opts);
    await sidecar.#start();
    return sidecar;
  }

  private constructor(opts: SidecarOptions) {
    this.#opts = opts;
    this.bootstrap = opts.bootstrap;
    this.#clock = opts.clock ?? systemClock;
    this.startedAt = this.#clock.now();
    this.version = opts.version ?? '0.0.0';
    const base = opts.logger ?? createLogger({ component: 'sidecar', level: 'debug' });
    this.logger = new AdjustableLogger(base, opts.logLevel ?? envLevel());
    const b = opts.bootstrap;
    const log = this.logger;
    if (b.ca) {
      const rootsFile = b.ca.caCertificateFile ?? b.xds.caCertificateFile!;
      let caRoots: string;
      try {
        caRoots = readFileSync(rootsFile, 'utf8');
      } catch (e) {
        throw new TrellisError(
          'BOOTSTRAP_UNREADABLE',
          `cannot read the CA roots ${rootsFile} (${b.ca.caCertificateFile ? 'ca' : 'xds'}.caCertificateFile): ${errorMessage(e)}`,
        );
      }
      const tokenFile = b.ca.tokenFile;
      this.#agent = new IdentityAgent({
        identity: workloadIdentityOf(b.node),
        ca: new GrpcCaClient({ address: b.ca.address }),
        caRootsPem: caRoots,
        // Re-read on every request: the runtime rotates tokens.
        ...(tokenFile && { token: () => readFile(tokenFile, 'utf8').then((t) => t.trim()) }),
        ...(opts.caRetry && { retry: opts.caRetry }),
        clock: this.#clock,
        ...(opts.random && { random: opts.random }),
        logger: log.child('identity'),
      });
    }
    const random = opts.random ?? Math.random;
    this.telemetry = new SidecarTelemetrySinks({
      local: localFacts(b.node, b.ca !== undefined),
      // Read when a span is exported, by which time the cluster manager exists.
      collectors: { pickHost: (name) => this.#clusters.get(name)?.pickHost() },
      clock: this.#clock,
      logger: log.child('telemetry'),
      ...(b.node.locality.zone && { zone: b.node.locality.zone }),
      random,
    });
    const tlsProvider = new UpstreamTlsProvider(this.#agent ? { secrets: this.#agent } : {});
    this.#clusters = new SidecarClusterManager({
      stats: this.telemetry.stats,
      tls: tlsProvider,
      clock: this.#clock,
      random,
      logger: log.child('upstream'),
      ...(opts.lookup && { lookup: opts.lookup }),
      isSelf: (address, port) => this.#listeners.isSelf(address, port),
      onOutlierEvent: (e) =>
        log.info(`outlier detection ${e.action === 'EJECT' ? 'ejected' : 'brought back'} a host`, {
          cluster: e.cluster,
          host: e.host.key,
          ...(e.type && { type: e.type }),
          ...(e.enforced !== undefined && { enforced: e.enforced }),
        }),
    });
    const md = b.node.metadata;
    const pipeline: PipelineDeps = {
      clusters: this.#clusters,
      routes: { get: (name) => this.#config?.routes.get(name) },
      telemetry: this.telemetry,
      draining: () => this.#state === 'DRAINING',
    };
    const sweeper = new DeadlineSweeper({ clock: this.#clock });
    this.#listeners = new ListenerManager({
      hcmFactory:
        opts.hcmFactory ??
        createHttpConnectionManagerFactory({
          ...securityPipelineOptions(b.ca ? { localPrincipal: workloadId(workloadIdentityOf(b.node)) } : {}),
          clock: this.#clock,
          random,
          logger: log.child('http'),
          peerMetadata: {
            labels: nodeLabels(b.node),
            ...(typeof md.APP_CONTAINERS === 'string' && { appContainers: md.APP_CONTAINERS }),
          },
        }),
      pipeline,
      tcp: {
        clusters: this.#clusters,
        telemetry: this.telemetry,
        sweeper,
        clock: this.#clock,
        random,
        logger: log.child('tcp'),
      },
      tls: this.#agent ? { secrets: this.#agent } : {},
      stats: this.telemetry.stats,
      logger: log.child('listener'),
      proxyType: proxyTypeOf(b.node),
      clock: this.#clock,
      ...(b.bindAddress && { bindAddress: b.bindAddress }),
      drainTimeoutMs: b.drainTimeoutMs,
    });
    this.#admin = new AdminServer(this);
    const appAddress = typeof md.APP_ADDRESS === 'string' && md.APP_ADDRESS ? md.APP_ADDRESS : '127.0.0.1';
    this.#health = new HealthServers(this, {
      host: b.bindAddress ?? '0.0.0.0',
      ports: b.ports,
      ...(b.appMetrics && {
        appMetrics: {
          address: b.appMetrics.address ?? appAddress,
          port: b.appMetrics.port,
          path: b.appMetrics.path,
        },
      }),
      logger: log.child('health'),
    });
  }

  /** Bound ports (useful when the bootstrap asked for port 0). */
  get ports(): { admin: number; stats: number; readiness: number; mergedMetrics: number } {
    return { admin: this.#adminPort, ...this.#health.ports };
  }

  /** The admin API's base URL. */
  get adminUrl(): string {
    const a = this.bootstrap.admin.address;
    return `http://${a.includes(':') ? `[${a}]` : a}:${this.#adminPort}`;
  }

  /** The config being served, once the first snapshot is applied. */
  get config(): SidecarConfig | undefined {
    return this.#config;
  }

  /** Downstream connections accepted and still open. */
  get openConnections(): number {
    return this.#listeners.openConnections;
  }

  get clusterManager(): SidecarClusterManager {
    return this.#clusters;
  }

  get identityAgent(): IdentityAgent | undefined {
    return this.#agent;
  }

  /** Resolves when `ready()` first turns true. */
  whenReady(): Promise<void> {
    if (this.#ready) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  // --- AdminContext ---

  state(): ServerState {
    return this.#state;
  }

  ready(): boolean {
    return this.#ready && this.#state === 'LIVE';
  }

  resources<K extends ResourceKind>(kind: K): ResourceState<SidecarResourceTypes[K]>[] {
    return this.#xds?.resources(kind) ?? [];
  }

  xdsStatus(): XdsClientStatus | undefined {
    return this.#xds?.status();
  }

  secrets(): WorkloadSecrets | undefined {
    return this.#agent?.current();
  }

  clusters(): readonly ManagedCluster[] {
    return this.#clusters.all();
  }

  listeners(): BoundListener[] {
    return this.#listeners.listeners();
  }

  drainListeners(opts: { graceful: boolean }): void {
    void this.drain(opts);
  }

  quit(): void {
    void this.stop().then(() => this.#opts.onExit?.(0));
  }

  logLevel(): LogLevel {
    return this.logger.level;
  }

  setLogLevel(level: LogLevel): void {
    this.logger.level = level;
  }

  // --- lifecycle ---

  /**
   * Stops taking connections and lets in-flight requests and TCP connections finish, up to the bootstrap's
   * drainTimeoutMs. Graceful (admin `?graceful`): listeners keep accepting for the drain time while every
   * response says `connection: close` (GOAWAY on HTTP/2), then stop. Readiness answers 503 from the start.
   */
  drain(opts: { graceful?: boolean } = {}): Promise<void> {
    if (this.#draining) return this.#draining;
    this.#state = 'DRAINING';
    const clock = this.#clock;
    const period = this.bootstrap.drainTimeoutMs;
    this.logger.info('draining listeners', { graceful: opts.graceful === true, drainTimeoutMs: period });
    this.#draining = (async () => {
      if (opts.graceful) {
        await new Promise<void>((resolve) => {
          const t = clock.setTimeout(resolve, period);
          t.unref?.();
        });
        await this.#listeners.stopAccepting();
        await this.#listeners.drain(clock.monotonic());
        return;
      }
      await this.#listeners.stopAccepting();
      await this.#listeners.drain(clock.monotonic() + period);
      this.logger.info('drained');
    })();
    return this.#draining;
  }

  /** Closes everything (listeners, connections, pools, xDS, CA, admin) and flushes logs and spans. */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#stopping = (async () => {
      this.#state = 'DRAINING';
      const step = (name: string) => this.logger.debug(`stop: ${name}`);
      await this.#listeners.stopAccepting();
      step(`listeners closed (${this.#listeners.openConnections} connections open)`);
      await this.#listeners.drain(this.#clock.monotonic());
      step('drained');
      await this.#listeners.close();
      this.#clusters.destroy();
      await this.#xds?.close();
      this.#agent?.stop();
      step('xds closed');
      await Promise.all([this.#admin.close(), this.#health.close()]);
      step('admin closed');
      await this.telemetry.close();
      step('telemetry closed');
    })();
    return this.#stopping;
  }

  async #start(): Promise<void> {
    const b = this.bootstrap;
    this.#adminPort = await this.#admin.listen({
      host: b.admin.address,
      port: b.admin.port,
      ...(b.admin.socketPath && { socketPath: b.admin.socketPath }),
    });
    await this.#health.listen();
    this.#state = 'INITIALIZING';
    void this.#connect().catch((e) => {
      if (this.#stopping) return;
      this.logger.error('sidecar failed to start', { error: errorMessage(e) });
    });
  }

  /** The first certificate before anything that needs it; then xDS. */
  async #connect(): Promise<void> {
    const b = this.bootstrap;
    if (this.#agent) {
      const s = await this.#agent.start();
      this.logger.info('workload certificate issued', {
        spiffeId: s.spiffeId,
        expires: s.default.leaf.notAfter.toISOString(),
      });
    }
    if (this.#stopping) return;
    const metadata: JsonObject = { ...b.node.metadata };
    // The control plane scrapes ip:15090 unless told otherwise (it cannot know a port chosen at run time).
    if (metadata.STATS_ADDRESS === undefined && this.#health.ports.stats !== 15090) {
      const host = b.bindAddress && b.bindAddress !== '0.0.0.0' ? b.bindAddress : '127.0.0.1';
      metadata.STATS_ADDRESS = `${host}:${this.#health.ports.stats}`;
    }
    const xds = new XdsClient<SidecarResourceTypes>({
      server: b.xds.address,
      node: {
        id: b.node.id,
        cluster: b.node.cluster,
        metadata,
        locality: b.node.locality,
        userAgentVersion: this.version,
      },
      decoders: sidecarDecoders(this.#opts.decode),
      ...(b.xds.tls && { credentials: () => this.#xdsCredentials() }),
      ...(b.xds.tls &&
        isIP(hostOf(b.xds.address)) && {
          channelOptions: {
            'grpc.ssl_target_name_override': ISTIOD_NAME,
            'grpc.default_authority': ISTIOD_NAME,
          },
        }),
      ...(this.#opts.xdsBackoff && { backoff: this.#opts.xdsBackoff }),
      ...(this.#opts.warmingTimeoutMs !== undefined && { warmingTimeoutMs: this.#opts.warmingTimeoutMs }),
      clock: this.#clock,
      logger: this.logger.child('xds'),
    });
    this.#xds = xds;
    xds.onSnapshot((s) => this.#enqueue(s));
    void xds.synced().then((s) => {
      this.#syncedSequence = s.sequence;
      this.#enqueue(s);
    });
    xds.start();
  }

  /** Called on every (re)connect, so a rotated certificate and bundle are used. */
  #xdsCredentials(): grpc.ChannelCredentials {
    const s = this.#agent?.current();
    if (!s)
      throw new TrellisError(
        'XDS_NO_IDENTITY',
        'xds.tls needs the workload certificate, which is not issued yet',
      );
    const file = this.bootstrap.xds.caCertificateFile ?? this.bootstrap.ca?.caCertificateFile;
    const roots = `${file ? readFileSync(file, 'utf8') : ''}\n${s.rootCa.pem}`;
    return grpc.credentials.createSsl(
      Buffer.from(roots),
      Buffer.from(s.default.privateKeyPem),
      Buffer.from(s.default.certChainPem),
    );
  }

  #enqueue(s: XdsSnapshot<SidecarResourceTypes>): void {
    if (!this.#latest || s.sequence >= this.#latest.sequence) this.#latest = s;
    if (!this.#applying) {
      this.#applying = this.#applyLoop().finally(() => {
        this.#applying = undefined;
      });
    }
  }

  /** Applies snapshots one at a time, always the newest: a burst of pushes costs one apply each at most. */
  async #applyLoop(): Promise<void> {
    while (this.#latest && this.#latest !== this.#applied && !this.#stopping) {
      const s = this.#latest;
      try {
        const config = configFromSnapshot(s, this.logger);
        const raw = new Map(this.resources('listener').map((r) => [r.name, r.any.value] as const));
        this.#config = config;
        this.#clusters.apply(config);
        await this.#listeners.apply(config, (name) => raw.get(name));
        this.logger.debug('config applied', { sequence: s.sequence, versions: config.versions });
      } catch (e) {
        this.logger.error('cannot serve this config; the previous one keeps serving', {
          error: errorMessage(e),
        });
      }
      this.#applied = s;
      this.#checkReady();
    }
  }

  #checkReady(): void {
    if (this.#ready || this.#syncedSequence === undefined || !this.#applied) return;
    if (this.#applied.sequence < this.#syncedSequence) return;
    if (this.bootstrap.ca && !this.#agent?.current()) return;
    this.#ready = true;
    if (this.#state === 'INITIALIZING') this.#state = 'LIVE';
    this.logger.info('ready: first complete config applied', {
      listeners: this.#config?.listeners.size ?? 0,
      clusters: this.#config?.clusters.size ?? 0,
    });
    for (const w of this.#readyWaiters.splice(0)) w();
  }
}

function envLevel(): LogLevel {
  const v = (process.env.TRELLIS_LOG_LEVEL ?? '').toLowerCase();
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'error' ? v : 'info';
}
