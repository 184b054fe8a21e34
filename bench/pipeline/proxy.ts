// The benchmarked sidecar: the HTTP pipeline (routing, Istio metrics, 1% tracing, no access log) over Http1Pool.

import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { compileHeaderMatcher } from '../../src/sidecar/config/match/header-matcher.js';
import { compileRouteMatch } from '../../src/sidecar/config/match/route.js';
import type {
  ClusterConfig,
  HcmConfig,
  RouteEntry,
  RouteTable,
  VirtualHostConfig,
} from '../../src/sidecar/config/model.js';
import { NO_HEADER_OPS } from '../../src/sidecar/config/model.js';
import { stringMatch } from '../../src/sidecar/config/string-match.js';
import { createHttpConnectionManagerFactory } from '../../src/sidecar/http/pipeline/hcm.js';
import type { SidecarTelemetry, UpstreamCluster } from '../../src/sidecar/runtime/contracts.js';
import { Host } from '../../src/sidecar/upstream/lb/host.js';
import { Http1Pool } from '../../src/sidecar/upstream/pool/h1-pool.js';
import { IstioMetrics } from '../../src/telemetry/metrics/istio.js';
import { MetricsRegistry } from '../../src/telemetry/metrics/registry.js';
import { StatsStore } from '../../src/telemetry/stats/store.js';
import { Tracer } from '../../src/telemetry/trace/tracer.js';

const upstreamPort = Number(process.argv[2]);
const CLUSTER = 'outbound|9080||reviews.default.svc.cluster.local';

const host = new Host({ address: '127.0.0.1', port: upstreamPort });
const pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: upstreamPort } });
const config = {
  name: CLUSTER,
  istio: { services: [{ host: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' }] },
} as unknown as ClusterConfig;
const cluster: UpstreamCluster = {
  name: CLUSTER,
  config,
  async request(req, opts) {
    const response = await pool.request(req, { signal: opts.signal });
    return { response, host, done: () => {} };
  },
  tryStartRetry: () => true,
  retryFinished: () => {},
};

/** A Bookinfo-sized route table: the request matches the third route of the second virtual host. */
function route(name: string, prefix: string, headers: RouteEntry['match']['headers'] = []): RouteEntry {
  const match: RouteEntry['match'] = {
    path: { kind: 'prefix', value: prefix },
    caseSensitive: true,
    headers,
    queryParameters: [],
    grpcOnly: false,
  };
  return {
    name,
    match,
    matches: compileRouteMatch(match),
    action: {
      kind: 'route',
      clusters: [
        { name: CLUSTER, weight: 100, requestHeaders: NO_HEADER_OPS, responseHeaders: NO_HEADER_OPS },
      ],
      totalWeight: 100,
      clusterNotFoundStatus: 503,
      priority: 'DEFAULT',
      timeoutMs: 0,
      mirrors: [],
      hashPolicies: [],
      websocket: false,
      rateLimits: [],
    },
    requestHeaders: NO_HEADER_OPS,
    responseHeaders: NO_HEADER_OPS,
  };
}
const jason = [
  compileHeaderMatcher({
    name: 'end-user',
    kind: 'string',
    match: stringMatch('exact', 'jason'),
    invert: false,
    treatMissingAsEmpty: false,
  }),
];
const vhosts: VirtualHostConfig[] = ['details', '127.0.0.1', 'ratings'].map((name) => ({
  name: `${name}:9080`,
  domains: [name, `${name}:9080`],
  routes: [route('jason', '/', jason), route('api', '/api/'), route('default', '/')],
  requestHeaders: NO_HEADER_OPS,
  responseHeaders: NO_HEADER_OPS,
  includeAttemptCount: false,
  includeAttemptCountInResponse: false,
  rateLimits: [],
}));
const byDomain = new Map<string, VirtualHostConfig>();
for (const v of vhosts) for (const d of v.domains) byDomain.set(d, v);
const table: RouteTable = {
  name: '9080',
  virtualHosts: vhosts,
  requestHeaders: NO_HEADER_OPS,
  responseHeaders: NO_HEADER_OPS,
  findVirtualHost: (authority) => {
    const v = byDomain.get(authority);
    if (v) return v;
    const colon = authority.lastIndexOf(':');
    return colon > 0 ? byDomain.get(authority.slice(0, colon)) : undefined;
  },
};

const local = {
  workloadName: 'productpage-v1',
  namespace: 'default',
  app: 'productpage',
  version: 'v1',
  canonicalService: 'productpage',
  canonicalRevision: 'v1',
  cluster: 'Kubernetes',
  nodeId: 'sidecar~127.0.0.1~productpage-v1-abc.default~default.svc.cluster.local',
  meshId: 'cluster.local',
};
let spans = 0;
const telemetry: SidecarTelemetry = {
  istio: new IstioMetrics({ registry: new MetricsRegistry() }),
  stats: new StatsStore(),
  local,
  accessLoggers: () => [],
  tracer: (c) =>
    c === undefined
      ? undefined
      : new Tracer({
          nodeId: local.nodeId,
          canonicalService: local.canonicalService,
          namespace: local.namespace,
          samplingPercentage: c.randomSamplingPercent,
          sink: { export: () => ++spans > 0 },
        }),
};

const hcmConfig: HcmConfig = {
  statPrefix: 'outbound_0.0.0.0_9080',
  routeConfig: table,
  httpFilters: [
    { name: 'envoy.filters.http.fault', kind: 'fault', config: {} },
    { name: 'envoy.filters.http.cors', kind: 'cors' },
    { name: 'envoy.filters.http.router', kind: 'router', suppressEnvoyHeaders: false },
  ],
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
  idleTimeoutMs: 3_600_000,
  maxRequestHeadersKb: 60,
  maxHeadersCount: 100,
  maxConcurrentStreams: 100,
  serverName: '',
  websocket: true,
  accessLog: [],
  // TRACING=off measures the pipeline without a tracer (the span and its propagation headers).
  tracing:
    process.env.TRACING === 'off'
      ? undefined
      : {
          randomSamplingPercent: 1,
          provider: {
            kind: 'zipkin',
            collectorCluster: 'zipkin',
            endpoint: '/api/v2/spans',
            traceId128bit: true,
            sharedSpanContext: false,
          },
          customTags: [],
          spawnUpstreamSpan: false,
        },
};

const hcm = createHttpConnectionManagerFactory()(hcmConfig, {
  clusters: { get: (name) => (name === CLUSTER ? cluster : undefined) },
  routes: { get: () => undefined },
  telemetry,
  draining: () => false,
});
const listener = net.createServer({ allowHalfOpen: true }, (socket) =>
  hcm.serve({
    socket,
    direction: 'outbound',
    listenerName: '0.0.0.0_9080',
    filterChainName: '',
    destination: { address: socket.localAddress ?? '', port: socket.localPort ?? 0 },
    source: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
    acceptedAt: Date.now(),
  }),
);
listener.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(listener.address() as AddressInfo).port}\n`);
});

// Exit cleanly on a signal so `node --cpu-prof` writes its profile.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
