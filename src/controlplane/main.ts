// The control plane assembled: config store, registry, CA, ADS (plaintext 15010, mTLS 15012), pushes, the HTTP
// API (15014) and the embedded telemetry store. The local runtime embeds it; `trellis controlplane` runs it alone.

import { mkdirSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { formatMessage, loadInputs, validateResources } from '../api/index.js';
import type { MeshConfig, RequestAuthentication, Resource } from '../api/types/index.js';
import { FileConfigStore } from '../config/file-store.js';
import type { ConfigStore } from '../config/store.js';
import { KubeRegistry } from '../registry/kube-registry.js';
import { TrellisError } from '../shared/errors.js';
import { type Logger, silentLogger } from '../shared/log.js';
import { parseWorkloadId } from '../shared/spiffe.js';
import { createEmbeddedTelemetry, type EmbeddedTelemetry } from '../telemetry/store/embedded.js';
import { PrometheusMetricsSource, writeFileSdTargets } from '../telemetry/store/prometheus.js';
import { TelemetryQueries } from '../telemetry/store/queries.js';
import { createApiServer, type EventTopic, type RawHandler, Reply } from './api/index.js';
import type { RuntimeView } from './api/views.js';
import { CertificateService, caServerCredentials, MeshCa } from './ca/index.js';
import { configDump, configz, syncz } from './debug.js';
import { JwksCache, jwksUrisOf } from './jwks/jwks-cache.js';
import { MeshState } from './mesh-state.js';
import { PushController } from './push.js';
import {
  AdsServer,
  adsServerChannelOptions,
  MemoryMetrics,
  type ProxyInfo,
  SnapshotCache,
} from './server/index.js';
import { configView, proxyView, RuntimeSlot } from './views.js';

export interface ControlPlaneOptions {
  stateDir: string;
  /** Initial config (Istio and Kubernetes YAML); applied into the persistent store on every start. */
  configDirs?: readonly string[];
  listen?: { hosts?: readonly string[]; xdsPort?: number; xdsTlsPort?: number; apiPort?: number };
  /** Written to ConfigMap istio-system/istio (Istio's place for mesh config) at start. */
  meshConfig?: MeshConfig;
  pluginCertsDir?: string;
  debounceMs?: number;
  maxDebounceMs?: number;
  scrapeIntervalMs?: number;
  logger?: Logger;
  /** The local runtime's view (pods, addresses) for /api/v1/status and the dashboard; also settable later. */
  runtime?: RuntimeView;
  /**
   * Use a real Prometheus instead of the embedded store: the control plane writes the proxies it knows into
   * `fileSdPath` (file_sd_configs) and the API's telemetry queries read from Prometheus at `url`.
   */
  prometheus?: { url: string; fileSdPath: string };
}

export interface ApiRoutes {
  /** Adds a route to the API server (the dashboard router's raw handlers: `({req, res, url, params})`). */
  route(method: string, path: string, handler: RawHandler): void;
}

export interface ControlPlane {
  readonly config: ConfigStore;
  readonly registry: KubeRegistry;
  readonly ca: MeshCa;
  readonly ads: AdsServer;
  readonly cache: SnapshotCache;
  readonly push: PushController;
  readonly state: MeshState;
  readonly telemetry: EmbeddedTelemetry;
  readonly metrics: MemoryMetrics;
  readonly addresses: { xds: string; xdsTls: string; api: string };
  readonly api: ApiRoutes;
  caRootPem(): string;
  /** The local runtime registers its view here (pods, addresses, ingress) for /api/v1/status and the dashboard. */
  setRuntime(view: RuntimeView | undefined): void;
  notify(topic: EventTopic): void;
  issueWorkloadToken(opts: {
    namespace: string;
    serviceAccount: string;
    podName: string;
    podUid?: string;
  }): Promise<string>;
  stop(): Promise<void>;
}

function bind(
  server: grpc.Server,
  host: string,
  port: number,
  creds: grpc.ServerCredentials,
): Promise<number> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) =>
    server.bindAsync(address, creds, (err, p) =>
      err
        ? reject(new TrellisError('LISTEN_FAILED', `cannot listen on ${address}: ${err.message}`))
        : resolve(p),
    ),
  );
}

/** Binds every host on one port: port 0 picks a free port on the first host, the others reuse it. */
async function bindAll(
  server: grpc.Server,
  hosts: readonly string[],
  port: number,
  creds: grpc.ServerCredentials,
): Promise<number> {
  let chosen = port;
  for (const host of hosts) chosen = await bind(server, host, chosen, creds);
  return chosen;
}

/** The mTLS port only serves xDS to a proxy whose certificate names the identity its node claims. */
function authorizeMtls(info: ProxyInfo): void {
  const cert = info.peer.certificate;
  if (!cert) return; // plaintext port: no identity to check
  const uris = (cert.subjectaltname ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
  const id = uris.map((u) => parseWorkloadId(u)).find((x) => x !== undefined);
  const md = info.node.metadata;
  const ns = typeof md.NAMESPACE === 'string' ? md.NAMESPACE : undefined;
  const sa = typeof md.SERVICE_ACCOUNT === 'string' ? md.SERVICE_ACCOUNT : undefined;
  if (!id || id.namespace !== ns || id.serviceAccount !== sa) {
    throw new TrellisError(
      'XDS_IDENTITY_MISMATCH',
      `proxy ${info.node.id} claims ${ns}/${sa} but its certificate is ${uris.join(', ') || 'not a SPIFFE identity'}`,
    );
  }
}

async function applyInitialConfig(
  config: ConfigStore,
  dirs: readonly string[],
  mesh: MeshConfig | undefined,
): Promise<void> {
  const resources: Resource[] = [];
  if (dirs.length > 0) {
    const loaded = await loadInputs(dirs);
    const problems = [...loaded.messages, ...validateResources(loaded.resources)].filter(
      (m) => m.severity === 'error',
    );
    if (problems.length > 0) {
      throw new TrellisError(
        'CONFIG_INVALID',
        `the config has errors:\n${problems.map(formatMessage).join('\n')}`,
      );
    }
    resources.push(...loaded.resources.map((l) => l.resource));
  }
  if (mesh) {
    const { stringify } = await import('yaml');
    resources.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'istio', namespace: 'istio-system' },
      spec: { data: { mesh: stringify(mesh) } },
    });
  }
  if (resources.length === 0) return;
  const result = await config.apply(resources);
  if (!result.ok) {
    throw new TrellisError(
      'CONFIG_INVALID',
      `the config has errors:\n${result.messages.map(formatMessage).join('\n')}`,
    );
  }
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const logger = opts.logger ?? silentLogger;
  const hosts = opts.listen?.hosts && opts.listen.hosts.length > 0 ? opts.listen.hosts : ['127.0.0.1'];
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  const configDir = join(opts.stateDir, 'config');
  mkdirSync(configDir, { recursive: true });

  const config = await FileConfigStore.open({ dir: configDir, logger: logger.child('config') });
  await applyInitialConfig(config, opts.configDirs ?? [], opts.meshConfig);
  const registry = new KubeRegistry();
  // jwksUri documents are fetched here and inlined by translation (fail closed until the first fetch).
  let state: MeshState | undefined;
  const jwks = new JwksCache({ logger: logger.child('jwks'), onChange: () => state?.jwksChanged() });
  state = new MeshState({ config, registry, jwks: () => jwks.snapshot(), logger: logger.child('mesh') });
  const trackJwks = () =>
    jwks.track(jwksUrisOf(config.list({ kind: 'RequestAuthentication' }) as RequestAuthentication[]));
  trackJwks();
  config.watch((e) => {
    if (e.resource.kind === 'RequestAuthentication') trackJwks();
  });
  const mesh = state.meshConfig();
  const ca = await MeshCa.open({
    stateDir: join(opts.stateDir, 'ca'),
    trustDomain: mesh.trustDomain,
    servingAddresses: hosts,
    logger: logger.child('ca'),
    ...(opts.pluginCertsDir ? { pluginCertsDir: opts.pluginCertsDir } : {}),
  });

  const metrics = new MemoryMetrics();
  const cache = new SnapshotCache();
  let ads: AdsServer | undefined;
  const push = new PushController({
    cache,
    index: () => state.index(),
    groupsInUse: () => ads?.groupsInUse() ?? new Set(),
    revision: () => config.revision,
    debounceMs: opts.debounceMs ?? 100,
    maxDebounceMs: opts.maxDebounceMs ?? 1000,
    logger: logger.child('push'),
  });
  state.onChange((e) => push.changed(e));
  const telemetry = createEmbeddedTelemetry({
    scrapeIntervalMs: opts.scrapeIntervalMs ?? 5000,
    logger: logger.child('telemetry'),
  });

  const refreshScrapeTargets = () => {
    const targets = (ads?.proxyStatus() ?? []).map((p) => {
      const md = p.metadata;
      const ip = String(md.INSTANCE_IPS ?? '').split(',')[0] || '127.0.0.1';
      const stats =
        typeof md.STATS_ADDRESS === 'string'
          ? md.STATS_ADDRESS
          : `${ip.includes(':') ? `[${ip}]` : ip}:15090`;
      return {
        url: `http://${stats}/stats/prometheus`,
        labels: {
          pod: String(md.NAME ?? p.proxyId),
          namespace: String(md.NAMESPACE ?? ''),
          workload: String(md.WORKLOAD_NAME ?? ''),
          role: 'proxy',
        },
      };
    });
    const unique = [...new Map(targets.map((t) => [t.url, t])).values()];
    if (opts.prometheus) {
      writeFileSdTargets(opts.prometheus.fileSdPath, unique).catch((e: unknown) =>
        logger.error('cannot write Prometheus targets', {
          file: opts.prometheus?.fileSdPath,
          error: String(e),
        }),
      );
    } else {
      telemetry.scraper.setTargets(unique);
    }
  };

  ads = new AdsServer({
    cache,
    resolveGroup: push.resolveGroup,
    ensureSnapshot: push.ensureSnapshot,
    authorize: authorizeMtls,
    metrics,
    logger: logger.child('xds'),
    onEvent: (e) => {
      if (e.kind === 'connect' || e.kind === 'disconnect') refreshScrapeTargets();
      if (e.kind === 'nack')
        logger.warn('proxy rejected config', { proxy: e.proxyId, type: e.typeUrl, message: e.message });
    },
  });

  const channelOptions = adsServerChannelOptions();
  const plain = new grpc.Server(channelOptions);
  ads.addTo(plain);
  const secure = new grpc.Server(channelOptions);
  ads.addTo(secure);
  const certificates = new CertificateService({ ca, logger: logger.child('ca') });
  certificates.addTo(secure);
  const xdsPort = await bindAll(
    plain,
    hosts,
    opts.listen?.xdsPort ?? 15010,
    grpc.ServerCredentials.createInsecure(),
  );
  const xdsTlsPort = await bindAll(secure, hosts, opts.listen?.xdsTlsPort ?? 15012, caServerCredentials(ca));

  // HTTP API, dashboard and debug endpoints, one router.
  const mesh0 = state.meshConfig();
  const runtime = new RuntimeSlot(() => ({ mesh: 'standalone', addresses: {}, pods: [] }));
  const apiServer = createApiServer({
    config: configView({ config, ads, groupRevision: (g) => push.revisionOf(g) }),
    proxies: proxyView(ads),
    runtime,
    telemetry: opts.prometheus
      ? {
          queries: new TelemetryQueries(new PrometheusMetricsSource({ url: opts.prometheus.url })),
          traces: telemetry.traces,
        }
      : telemetry,
    rootNamespace: mesh0.rootNamespace,
    telemetryTickMs: opts.scrapeIntervalMs ?? 5000,
    logger: logger.child('api'),
  });
  const router = apiServer.router;
  router.get('/debug/syncz', () => syncz(ads));
  router.get('/debug/configz', () => configz(config));
  router.get('/debug/config_dump', ({ url }) => {
    const id = url.searchParams.get('proxyID') ?? '';
    return (
      configDump(ads, cache, id) ??
      new Reply(404, { error: { code: 'NOT_FOUND', message: `no connected proxy matches proxyID "${id}"` } })
    );
  });
  router.raw('GET', '/metrics', ({ res }) => {
    const text = `${metrics.toPrometheus()}\n${certificates.metrics.prometheus()}\n`;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(text);
  });
  router.get('/ready', () => ({ ready: true }));
  const api: ApiRoutes = {
    route: (method, path, handler) => {
      router.raw(method, path, handler);
    },
  };
  if (opts.runtime) runtime.set(opts.runtime);
  const httpServers: HttpServer[] = [];
  let apiPort = opts.listen?.apiPort ?? 15014;
  for (const host of hosts) {
    const server = createServer(apiServer.handler);
    httpServers.push(server);
    apiPort = await new Promise<number>((resolve, reject) => {
      server.once('error', (e) =>
        reject(new TrellisError('LISTEN_FAILED', `cannot listen on ${host}:${apiPort}: ${e.message}`)),
      );
      server.listen(apiPort, host, () => {
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : apiPort);
      });
    });
  }
  telemetry.start();

  const local = hosts[0]!;
  const fmt = (p: number) => (local.includes(':') ? `[${local}]:${p}` : `${local}:${p}`);
  logger.info('control plane ready', { xds: fmt(xdsPort), xdsTls: fmt(xdsTlsPort), api: fmt(apiPort) });

  return {
    config,
    registry,
    ca,
    ads,
    cache,
    push,
    state,
    telemetry,
    metrics,
    addresses: { xds: fmt(xdsPort), xdsTls: fmt(xdsTlsPort), api: fmt(apiPort) },
    api,
    caRootPem: () => ca.trustBundle.pem,
    issueWorkloadToken: (o) => ca.tokenIssuer.issue({ ...o, podUid: o.podUid ?? o.podName }),
    setRuntime: (view) => runtime.set(view),
    notify: (topic) => apiServer.notify(topic),
    async stop() {
      jwks.close();
      push.close();
      state.close();
      telemetry.stop();
      await ads.close({ graceMs: 1000 });
      await Promise.all([plain, secure].map((s) => new Promise<void>((r) => s.tryShutdown(() => r()))));
      await Promise.all(
        httpServers.map(
          (s) =>
            new Promise<void>((r) => {
              s.close(() => r());
              s.closeAllConnections();
            }),
        ),
      );
      ca.close();
      await config.close();
    },
  };
}
