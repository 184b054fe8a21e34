// Pipeline test harness: real telemetry sinks, a listener that hands sockets to the HCM, clients and upstreams.

import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import tls from 'node:tls';
import type { Clock } from '../../../src/shared/clock.js';
import type {
  AccessLogConfig,
  HcmConfig,
  HttpFilterConfig,
  RouteTable,
} from '../../../src/sidecar/config/model.js';
import { createHttpConnectionManagerFactory } from '../../../src/sidecar/http/pipeline/hcm.js';
import type { PipelineOptions } from '../../../src/sidecar/http/pipeline/options.js';
import { peerIdentity as verifiedPeerIdentity } from '../../../src/sidecar/identity/peer-identity.js';
import type {
  DownstreamConnection,
  HttpConnectionManager,
  SidecarTelemetry,
} from '../../../src/sidecar/runtime/contracts.js';
import { compileJsonFormat, compileTextFormat } from '../../../src/telemetry/accesslog/formatter.js';
import { IstioMetrics } from '../../../src/telemetry/metrics/istio.js';
import { ISTIO_HTTP_LABELS, type WorkloadFacts } from '../../../src/telemetry/metrics/istio-labels.js';
import { MetricsRegistry } from '../../../src/telemetry/metrics/registry.js';
import type { RequestRecord } from '../../../src/telemetry/record.js';
import { StatsStore } from '../../../src/telemetry/stats/store.js';
import type { FinishedSpan } from '../../../src/telemetry/trace/span.js';
import { type SpanSink, Tracer } from '../../../src/telemetry/trace/tracer.js';
import { TestClusters } from './clusters.js';

export interface TestTelemetryInit {
  local?: WorkloadFacts & { principal?: string; nodeId?: string; meshId?: string };
  /** Where spans go; default: kept in `spans`. */
  spanSink?: SpanSink;
}

/** SidecarTelemetry over the real registries; access log lines and spans are kept for assertions. */
export class TestTelemetry implements SidecarTelemetry {
  readonly registry = new MetricsRegistry();
  readonly istio = new IstioMetrics({ registry: this.registry });
  readonly stats = new StatsStore();
  readonly local: SidecarTelemetry['local'];
  readonly lines: string[] = [];
  readonly records: RequestRecord[] = [];
  readonly spans: FinishedSpan[] = [];
  readonly #spanSink: SpanSink;
  #lineWaiters: { n: number; resolve: () => void }[] = [];

  constructor(init: TestTelemetryInit = {}) {
    const l = init.local ?? {};
    this.local = {
      workloadName: 'productpage-v1',
      namespace: 'default',
      app: 'productpage',
      version: 'v1',
      canonicalService: 'productpage',
      canonicalRevision: 'v1',
      cluster: 'Kubernetes',
      nodeId: `sidecar~127.0.0.1~${l.workloadName ?? 'productpage-v1'}-abc.${l.namespace ?? 'default'}~default.svc.cluster.local`,
      meshId: 'cluster.local',
      ...l,
    };
    this.#spanSink = init.spanSink ?? {
      export: (span) => {
        this.spans.push(span);
        return true;
      },
    };
  }

  accessLoggers(configs: readonly AccessLogConfig[]): { log(record: RequestRecord): void }[] {
    return configs.map((c) => {
      const format =
        c.format.kind === 'text' ? compileTextFormat(c.format.text) : compileJsonFormat(c.format.json);
      return {
        log: (rec: RequestRecord) => {
          this.records.push(rec);
          this.lines.push(format(rec));
          for (const w of this.#lineWaiters.filter((x) => this.lines.length >= x.n)) {
            this.#lineWaiters.splice(this.#lineWaiters.indexOf(w), 1);
            w.resolve();
          }
        },
      };
    });
  }

  tracer(config: HcmConfig['tracing']): Tracer | undefined {
    if (config === undefined) return undefined;
    return new Tracer({
      nodeId: this.local.nodeId,
      canonicalService: this.local.canonicalService ?? 'unknown',
      namespace: this.local.namespace ?? 'default',
      samplingPercentage: config.randomSamplingPercent,
      sink: this.#spanSink,
    });
  }

  /** Resolves once `n` access log lines were written; fails after `timeoutMs` listing what was written. */
  waitForLines(n: number, timeoutMs = 5000): Promise<void> {
    if (this.lines.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`expected ${n} access log lines, got ${this.lines.length}: ${this.lines.join('')}`),
          ),
        timeoutMs,
      );
      this.#lineWaiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** istio_requests_total series as label records with their counts. */
  requestsTotal(): { labels: Record<string, string>; value: number }[] {
    return [...this.istio.requestsTotal.all()].map((s) => {
      const labels: Record<string, string> = {};
      ISTIO_HTTP_LABELS.forEach((name, i) => {
        labels[name] = s.labelValues[i]!;
      });
      return { labels, value: s.value };
    });
  }

  stat(name: string): number {
    return this.stats.get(name)?.value ?? 0;
  }
}

export function hcmConfig(init: Partial<HcmConfig> & { routeConfig?: RouteTable } = {}): HcmConfig {
  const filters: HttpFilterConfig[] = init.httpFilters ? [...init.httpFilters] : [];
  if (!filters.some((f) => f.kind === 'router'))
    filters.push({ name: 'envoy.filters.http.router', kind: 'router', suppressEnvoyHeaders: false });
  return {
    statPrefix: 'outbound_0.0.0.0_9080',
    codec: 'auto',
    stripPort: 'none',
    headersWithUnderscores: 'allow',
    useRemoteAddress: false,
    xffNumTrustedHops: 0,
    forwardClientCert: 'SANITIZE',
    setCurrentClientCert: { subject: false, uri: false, dns: false },
    generateRequestId: true,
    preserveExternalRequestId: true,
    normalizePath: true,
    mergeSlashes: false,
    escapedSlashes: 'keep',
    streamIdleTimeoutMs: 0,
    requestTimeoutMs: 0,
    idleTimeoutMs: 0,
    maxRequestHeadersKb: 60,
    maxHeadersCount: 100,
    maxConcurrentStreams: 100,
    serverName: '',
    websocket: true,
    accessLog: [],
    ...init,
    httpFilters: filters,
  };
}

export interface PipelineInit {
  config: HcmConfig;
  clusters?: TestClusters;
  telemetry?: TestTelemetry;
  direction?: DownstreamConnection['direction'];
  options?: PipelineOptions;
  draining?: () => boolean;
  routes?: Map<string, RouteTable>;
  /** Leave the clusters' pools open on close (they are shared with other pipelines of the test). */
  keepClusters?: boolean;
  /** Pretend the connection was mTLS from this SPIFFE identity (inbound metadata exchange, trust). */
  peerIdentity?: string;
  /**
   * Terminate real mTLS, as the listener does: client certificates verified against `ca`, and each connection
   * handed over as the TLS socket with its verified peer (`tls.peerIdentity`, `peerCertificate`).
   */
  mtls?: { certPem: string; keyPem: string; caPem: string; localIdentity: string };
  /** The original destination the listener reports (SO_ORIGINAL_DST); default: the socket's local address. */
  originalDestination?: { address: string; port: number };
  clock?: Clock;
}

export interface RunningPipeline {
  port: number;
  url: string;
  hcm: HttpConnectionManager;
  telemetry: TestTelemetry;
  clusters: TestClusters;
  close(): Promise<void>;
}

/** A listener on 127.0.0.1:0 handing every accepted socket to a connection manager from the factory. */
export async function startPipeline(init: PipelineInit): Promise<RunningPipeline> {
  const telemetry = init.telemetry ?? new TestTelemetry();
  const ownsClusters = !init.keepClusters;
  const clusters = init.clusters ?? new TestClusters();
  const routes = init.routes ?? new Map();
  const factory = createHttpConnectionManagerFactory(init.options);
  const hcm = factory(init.config, {
    clusters,
    routes: { get: (name) => routes.get(name) },
    telemetry,
    draining: init.draining ?? (() => false),
  });
  const sockets = new Set<net.Socket>();
  const hand = (socket: net.Socket, tlsInfo: DownstreamConnection['tls']) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    hcm.serve({
      socket,
      direction: init.direction ?? 'outbound',
      listenerName: 'test',
      filterChainName: 'test',
      destination: init.originalDestination ?? {
        address: socket.localAddress ?? '127.0.0.1',
        port: socket.localPort ?? 0,
      },
      source: { address: socket.remoteAddress ?? '127.0.0.1', port: socket.remotePort ?? 0 },
      ...(tlsInfo && { tls: tlsInfo }),
      acceptedAt: Date.now(),
    });
  };
  const mtls = init.mtls;
  const server: net.Server = mtls
    ? tls
        .createServer(
          {
            cert: mtls.certPem,
            key: mtls.keyPem,
            ca: mtls.caPem,
            requestCert: true,
            rejectUnauthorized: true,
            minVersion: 'TLSv1.3',
            ALPNProtocols: ['http/1.1'],
          },
          (socket) =>
            hand(socket, {
              peerIdentity: verifiedPeerIdentity(socket),
              peerCertificate: socket.getPeerCertificate(),
              localIdentity: mtls.localIdentity,
              sni: typeof socket.servername === 'string' ? socket.servername : undefined,
              alpn: socket.alpnProtocol || undefined,
            }),
        )
        .on('tlsClientError', () => {})
    : net.createServer({ allowHalfOpen: true }, (socket) =>
        hand(
          socket,
          init.peerIdentity
            ? { peerIdentity: init.peerIdentity, localIdentity: telemetry.local.principal }
            : undefined,
        ),
      );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    hcm,
    telemetry,
    clusters,
    close: async () => {
      await hcm.drain(0);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownsClusters) clusters.close();
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP/1.1 request on a fresh connection (no agent), body collected. */
export function request(
  port: number,
  opts: {
    method?: string;
    path?: string;
    headers?: Record<string, string | string[]>;
    body?: string | Buffer;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: opts.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface Upstream {
  port: number;
  /** Every request the upstream received, in order. */
  seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

/** A node:http upstream whose handler decides each answer (it sees the body collected). */
export async function startUpstream(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void = (_req, res) =>
    res.end('ok'),
): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handle(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound then closed), for connect failures. */
export async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A seeded uniform generator (mulberry32), for weighted splits and jitter that tests can reproduce. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An HTTP/2 client session to the pipeline (h2c prior knowledge). */
export function h2Session(port: number): http2.ClientHttp2Session {
  return http2.connect(`http://127.0.0.1:${port}`);
}
