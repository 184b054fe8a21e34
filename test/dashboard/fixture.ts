// A Bookinfo control plane for API and browser tests: in-memory views plus a real telemetry store and traces.

import { parseAllDocuments } from 'yaml';
import { createApiServer } from '../../src/controlplane/api/server.js';
import type {
  ApplyResult,
  BatchMessage,
  ConfigItem,
  MeshStatus,
  ProxyStatus,
  ResourceId,
} from '../../src/controlplane/api/types.js';
import type { ChangeListener, ConfigView, ProxyView, RuntimeView } from '../../src/controlplane/api/views.js';
import { ManualClock } from '../../src/shared/clock.js';
import { TrellisError } from '../../src/shared/errors.js';
import type { RequestRecord } from '../../src/telemetry/record.js';
import { createEmbeddedTelemetry, type EmbeddedTelemetry } from '../../src/telemetry/store/embedded.js';
import { parsePrometheusText } from '../../src/telemetry/store/promtext.js';
import { BookinfoTraffic } from '../../src/telemetry/testing/bookinfo-traffic.js';
import { SequentialIdGenerator } from '../../src/telemetry/trace/ids.js';
import { Tracer } from '../../src/telemetry/trace/tracer.js';

export const SCRAPE_MS = 5000;
/** 2023-11-14T23:00:00Z, a whole hour (so chart steps align with it), far from the machine's own clock. */
export const T_END = 1_700_002_800_000;

const key = (r: ResourceId) => `${r.kind}/${r.namespace}/${r.name}`;

class Listeners {
  readonly #set = new Set<ChangeListener>();
  add(l: ChangeListener): () => void {
    this.#set.add(l);
    return () => this.#set.delete(l);
  }
  fire(): void {
    for (const l of this.#set) l();
  }
}

/**
 * An in-memory config store with just enough validation to reject a batch the way the real store promises
 * to (a TrellisError whose details.messages name each bad resource). `push` decides whether it offers
 * subscribe() or leaves the API to poll it.
 */
export class FakeConfigView implements ConfigView {
  readonly #items = new Map<string, ConfigItem>();
  readonly #listeners = new Listeners();
  #version = 100;
  subscribe?: (l: ChangeListener) => () => void;

  constructor(opts: { push: boolean }) {
    if (opts.push) this.subscribe = (l) => this.#listeners.add(l);
  }

  list(filter: { kind?: string; namespace?: string } = {}): ConfigItem[] {
    return [...this.#items.values()]
      .filter(
        (i) =>
          (!filter.kind || i.kind === filter.kind) && (!filter.namespace || i.namespace === filter.namespace),
      )
      .sort((a, b) => (key(a) < key(b) ? -1 : 1));
  }

  put(item: Omit<ConfigItem, 'resourceVersion'>): void {
    this.#items.set(key(item), { ...item, resourceVersion: String(++this.#version) });
    this.#listeners.fire();
  }

  /** Simulates proxies acknowledging (or rejecting) a resource's config. */
  setAppliedTo(id: ResourceId, appliedTo: ConfigItem['appliedTo']): void {
    const item = this.#items.get(key(id));
    if (!item) throw new Error(`no ${key(id)}`);
    this.#items.set(key(id), { ...item, appliedTo });
    this.#listeners.fire();
  }

  #parse(
    text: string,
    opts: { specs: boolean },
  ): { docs: Record<string, unknown>[]; errors: BatchMessage[] } {
    const docs: Record<string, unknown>[] = [];
    const errors: BatchMessage[] = [];
    const parsed = parseAllDocuments(text, { prettyErrors: false });
    const all = Array.isArray(parsed) ? parsed : [parsed];
    for (const doc of all) {
      const start = doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0;
      const line = text.slice(0, start).split('\n').length;
      if (doc.errors.length) {
        errors.push({
          level: 'Error',
          code: 'YAML',
          message: doc.errors[0]!.message,
          source: { file: 'request', line },
        });
        continue;
      }
      const value = doc.toJS() as Record<string, unknown> | null;
      if (!value) continue;
      const meta = (value.metadata ?? {}) as { name?: string; namespace?: string };
      const resource = {
        kind: String(value.kind ?? ''),
        namespace: meta.namespace ?? 'default',
        name: meta.name ?? '',
      };
      if (!value.kind || !meta.name || !value.apiVersion) {
        errors.push({
          level: 'Error',
          code: 'IST0000',
          message: 'apiVersion, kind and metadata.name are required',
          resource,
          source: { file: 'request', line },
        });
        continue;
      }
      const spec = (value.spec ?? {}) as Record<string, unknown>;
      if (
        opts.specs &&
        value.kind === 'VirtualService' &&
        !(Array.isArray(spec.hosts) && spec.hosts.length)
      ) {
        errors.push({
          level: 'Error',
          code: 'IST0000',
          message: `VirtualService ${resource.namespace}/${resource.name}: spec.hosts must list at least one host`,
          resource,
          source: { file: 'request', line },
        });
        continue;
      }
      docs.push(value);
    }
    return { docs, errors };
  }

  async apply(text: string): Promise<ApplyResult> {
    const { docs, errors } = this.#parse(text, { specs: true });
    if (errors.length) {
      throw new TrellisError('CONFIG_INVALID', `${errors.length} resource(s) rejected; nothing was applied`, {
        messages: errors,
      });
    }
    const resources: ApplyResult['resources'] = [];
    for (const d of docs) {
      const meta = d.metadata as { name: string; namespace?: string; labels?: Record<string, string> };
      const id = { kind: String(d.kind), namespace: meta.namespace ?? 'default', name: meta.name };
      const before = this.#items.get(key(id));
      const item: ConfigItem = {
        ...id,
        apiVersion: String(d.apiVersion),
        resourceVersion: String(++this.#version),
        spec: d.spec ?? {},
        messages: [],
        appliedTo: { total: 0, acked: 0, nacked: 0 },
      };
      const unchanged = before && JSON.stringify(before.spec) === JSON.stringify(item.spec);
      if (!unchanged) this.#items.set(key(id), item);
      resources.push({ ...id, action: unchanged ? 'unchanged' : before ? 'configured' : 'created' });
    }
    this.#listeners.fire();
    return { resources, messages: [] };
  }

  async delete(text: string): Promise<ApplyResult> {
    const { docs, errors } = this.#parse(text, { specs: false });
    if (errors.length) throw new TrellisError('CONFIG_INVALID', 'bad delete batch', { messages: errors });
    const ids = docs.map((d) => {
      const meta = d.metadata as { name: string; namespace?: string };
      return { kind: String(d.kind), namespace: meta.namespace ?? 'default', name: meta.name };
    });
    const missing = ids.find((id) => !this.#items.has(key(id)));
    if (missing)
      throw new TrellisError(
        'CONFIG_NOT_FOUND',
        `${missing.kind} ${missing.namespace}/${missing.name} not found`,
      );
    for (const id of ids) this.#items.delete(key(id));
    this.#listeners.fire();
    return { resources: ids.map((id) => ({ ...id, action: 'deleted' as const })), messages: [] };
  }
}

export class FakeProxyView implements ProxyView {
  proxies: ProxyStatus[];
  readonly #listeners = new Listeners();
  subscribe?: (l: ChangeListener) => () => void;

  constructor(proxies: ProxyStatus[], opts: { push: boolean }) {
    this.proxies = proxies;
    if (opts.push) this.subscribe = (l) => this.#listeners.add(l);
  }

  list(): ProxyStatus[] {
    return this.proxies;
  }

  update(fn: (p: ProxyStatus[]) => ProxyStatus[]): void {
    this.proxies = fn(this.proxies);
    this.#listeners.fire();
  }
}

export class FakeRuntimeView implements RuntimeView {
  mesh: MeshStatus;
  constructor(mesh: MeshStatus) {
    this.mesh = mesh;
  }
  status(): MeshStatus {
    return this.mesh;
  }
}

export const PODS = [
  {
    pod: 'productpage-v1-7d9f',
    workload: 'productpage-v1',
    app: 'productpage',
    version: 'v1',
    ip: '10.44.0.11',
  },
  { pod: 'details-v1-5c8d', workload: 'details-v1', app: 'details', version: 'v1', ip: '10.44.0.12' },
  { pod: 'reviews-v1-1a2b', workload: 'reviews-v1', app: 'reviews', version: 'v1', ip: '10.44.0.13' },
  { pod: 'reviews-v2-3c4d', workload: 'reviews-v2', app: 'reviews', version: 'v2', ip: '10.44.0.14' },
  { pod: 'reviews-v3-5e6f', workload: 'reviews-v3', app: 'reviews', version: 'v3', ip: '10.44.0.15' },
  { pod: 'ratings-v1-7a8b', workload: 'ratings-v1', app: 'ratings', version: 'v1', ip: '10.44.0.16' },
] as const;

export const RDS_NACK =
  'route_config "9080": virtual host "ratings.default.svc.cluster.local:9080" route 0: retry_policy.num_retries: -1 is not a uint32';

function bookinfoProxies(now: number): ProxyStatus[] {
  return PODS.map((p, i) => {
    const synced = {
      sent: '2023-11-14T22:00:00Z/7',
      acked: '2023-11-14T22:00:00Z/7',
      state: 'SYNCED' as const,
    };
    const proxy: ProxyStatus = {
      id: `sidecar~${p.ip}~${p.pod}.default~default.svc.cluster.local`,
      pod: p.pod,
      namespace: 'default',
      workload: p.workload,
      labels: { app: p.app, version: p.version },
      version: '0.1.0',
      connectedSince: now - 3_600_000 + i * 1000,
      xds: { CDS: synced, LDS: synced, EDS: synced, RDS: synced },
    };
    if (p.workload === 'reviews-v3') {
      proxy.xds.RDS = {
        sent: '2023-11-14T22:05:00Z/8',
        acked: '2023-11-14T22:00:00Z/7',
        state: 'STALE',
        lastNack: { version: '2023-11-14T22:05:00Z/8', message: RDS_NACK, at: now - 120_000 },
      };
    }
    return proxy;
  });
}

function bookinfoMesh(): MeshStatus {
  return {
    mesh: 'bookinfo-demo',
    addresses: { xds: '127.0.0.1:15010', api: 'http://127.0.0.1:15014' },
    ingressUrl: 'http://127.0.0.1:8080/productpage',
    pods: PODS.map((p, i) => ({
      name: p.pod,
      namespace: 'default',
      workload: p.workload,
      ready: true,
      ips: [p.ip],
      phase: 'Running',
      containers: [
        { name: p.app, role: 'app' as const, ready: true, pid: 2000 + 2 * i, state: 'running', restarts: 0 },
        {
          name: 'istio-proxy',
          role: 'proxy' as const,
          ready: true,
          pid: 2001 + 2 * i,
          state: 'running',
          restarts: 0,
        },
      ],
    })),
  };
}

const ERROR_MESSAGE = 'Referenced host not found: "ratingz"';

function seedConfig(config: FakeConfigView): void {
  const all = { total: 6, acked: 6, nacked: 0 };
  config.put({
    kind: 'VirtualService',
    namespace: 'default',
    name: 'reviews',
    apiVersion: 'networking.istio.io/v1',
    source: { file: 'samples/bookinfo/virtual-service-reviews-v2-v3.yaml', line: 1 },
    spec: {
      hosts: ['reviews'],
      http: [
        {
          route: [
            { destination: { host: 'reviews', subset: 'v2' }, weight: 50 },
            { destination: { host: 'reviews', subset: 'v3' }, weight: 50 },
          ],
        },
      ],
    },
    messages: [],
    appliedTo: all,
  });
  config.put({
    kind: 'DestinationRule',
    namespace: 'default',
    name: 'reviews',
    apiVersion: 'networking.istio.io/v1',
    spec: { host: 'reviews', subsets: ['v1', 'v2', 'v3'].map((v) => ({ name: v, labels: { version: v } })) },
    messages: [],
    appliedTo: all,
  });
  config.put({
    kind: 'VirtualService',
    namespace: 'default',
    name: 'ratings',
    apiVersion: 'networking.istio.io/v1',
    source: { file: 'samples/bookinfo/virtual-service-ratings.yaml', line: 3 },
    spec: {
      hosts: ['ratings'],
      http: [{ route: [{ destination: { host: 'ratingz' } }], retries: { attempts: -1 } }],
    },
    messages: [{ level: 'Error', code: 'IST0101', message: ERROR_MESSAGE }],
    appliedTo: { total: 6, acked: 5, nacked: 1 },
  });
  config.put({
    kind: 'DestinationRule',
    namespace: 'default',
    name: 'details',
    apiVersion: 'networking.istio.io/v1',
    spec: { host: 'details.default.svc.cluster.local', trafficPolicy: { tls: { mode: 'DISABLE' } } },
    messages: [
      {
        level: 'Warning',
        code: 'IST0128',
        message: 'DestinationRule disables TLS for details while mTLS is STRICT',
      },
    ],
    appliedTo: all,
  });
  config.put({
    kind: 'AuthorizationPolicy',
    namespace: 'default',
    name: 'ratings-viewer',
    apiVersion: 'security.istio.io/v1',
    spec: {
      selector: { matchLabels: { app: 'ratings' } },
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/bookinfo-reviews'] } }] }],
    },
    messages: [],
    appliedTo: { total: 1, acked: 1, nacked: 0 },
  });
  config.put({
    kind: 'PeerAuthentication',
    namespace: 'istio-system',
    name: 'default',
    apiVersion: 'security.istio.io/v1',
    spec: { mtls: { mode: 'STRICT' } },
    messages: [],
    appliedTo: all,
  });
}

export const CONFIG_ERROR_MESSAGE = ERROR_MESSAGE;

/** The metrics the dashboard's queries read; the byte-size histograms would only slow the fixture down. */
const KEEP = /^(istio_requests_total|istio_request_duration_milliseconds_bucket|istio_tcp_)/;

/**
 * Appends one scrape of every simulated sidecar at `t`, as the scraper would (pod and namespace labels).
 * Series lines repeat from scrape to scrape with new values, so each distinct line head is parsed once.
 */
class Scrapes {
  readonly #heads = new Map<string, { name: string; labels: Record<string, string> }>();

  scrape(telemetry: EmbeddedTelemetry, traffic: BookinfoTraffic, t: number): void {
    for (const s of traffic.sidecars) {
      for (const line of s.registry.render().split('\n')) {
        if (!line || line.startsWith('#') || !KEEP.test(line)) continue;
        const space = line.lastIndexOf(' ');
        const head = `${s.pod} ${line.slice(0, space)}`;
        let parsed = this.#heads.get(head);
        if (!parsed) {
          const sample = parsePrometheusText(line).samples[0]!;
          parsed = { name: sample.name, labels: { ...sample.labels, pod: s.pod, namespace: s.namespace } };
          this.#heads.set(head, parsed);
        }
        telemetry.store.append(parsed.name, parsed.labels, t, Number(line.slice(space + 1)));
      }
    }
  }
}

/** Sidecar and app CPU/RSS for every pod: CPU seconds grow with a gentle wave so charts have a shape. */
function recordProcesses(telemetry: EmbeddedTelemetry, t: number, step: number): void {
  PODS.forEach((p, i) => {
    for (const [role, container, base, rss] of [
      ['app', p.app, 0.04, 90e6],
      ['proxy', 'istio-proxy', 0.02, 55e6],
    ] as const) {
      const pid = role === 'app' ? 2000 + 2 * i : 2001 + 2 * i;
      const seconds = (t - (T_END - 3_600_000)) / 1000;
      const cpuSeconds = base * seconds + 0.01 * Math.sin(seconds / 60) * (i + 1);
      telemetry.processes.record(
        { pod: p.pod, namespace: 'default', container, role, workload: p.workload },
        { pid, cpuSeconds, rssBytes: rss + i * 4e6 + 2e6 * Math.sin(t / step / 10), threads: 8 },
        t,
      );
    }
  });
}

const rec = (o: Partial<RequestRecord>): RequestRecord => ({
  startTime: 0,
  durationMs: 0,
  protocol: 'HTTP/1.1',
  method: 'GET',
  responseCode: 200,
  responseFlags: '-',
  bytesReceived: 0,
  bytesSent: 512,
  ...o,
});

/**
 * Bookinfo request traces: productpage calls details, then reviews; reviews v2/v3 call ratings (5 spans
 * without ratings, 7 with). Every `failEvery`-th trace goes through reviews v3, ratings answers 500 after
 * 90 ms (the failing span) and reviews passes the error on; others take under 60 ms.
 */
export function addBookinfoTraces(
  telemetry: EmbeddedTelemetry,
  opts: { count: number; startMs: number; spacingMs: number; failEvery?: number },
): string[] {
  const clock = new ManualClock(opts.startMs);
  const ids = new SequentialIdGenerator();
  const sink = {
    export: (s: Parameters<typeof telemetry.traces.add>[0][number]) => {
      telemetry.traces.add([s]);
      return true;
    },
  };
  const tracer = (app: string) =>
    new Tracer({
      nodeId: `sidecar~10.44.0.1~${app}-v1.default~default.svc.cluster.local`,
      canonicalService: app,
      namespace: 'default',
      samplingPercentage: 100,
      sink,
      clock,
      ids,
    });
  const t = {
    productpage: tracer('productpage'),
    details: tracer('details'),
    reviews: tracer('reviews'),
    ratings: tracer('ratings'),
  };
  const host = (s: string) => `${s}.default.svc.cluster.local:9080`;
  const hop = (from: Tracer, to: Tracer, parent: ReturnType<Tracer['startServerSpan']>, service: string) => {
    const client = from.startClientSpan({ headers: {}, operation: `${host(service)}/*`, parent });
    const wire: Record<string, string | string[] | undefined> = {};
    from.inject(client, wire);
    const server = to.startServerSpan({ headers: wire, operation: `${host(service)}/*` });
    return { client, server };
  };
  const traceIds: string[] = [];
  for (let i = 0; i < opts.count; i++) {
    const failing = opts.failEvery !== undefined && i % opts.failEvery === opts.failEvery - 1;
    // Failing traces always reach ratings (through v3), so every one of them has an error span.
    const version = failing ? 'v3' : ['v1', 'v2', 'v3'][i % 3]!;
    const root = t.productpage.startServerSpan({
      headers: {},
      operation: `${host('productpage')}/productpage`,
    });
    traceIds.push(root.context.traceId);
    clock.advance(2);
    const d = hop(t.productpage, t.details, root, 'details');
    clock.advance(6 + (i % 4));
    t.details.end(d.server, rec({ path: '/details/0', authority: 'details:9080' }));
    clock.advance(1);
    t.productpage.end(
      d.client,
      rec({
        path: '/details/0',
        authority: 'details:9080',
        upstreamCluster: `outbound|9080||${host('details').split(':')[0]}`,
      }),
    );
    const r = hop(t.productpage, t.reviews, root, 'reviews');
    clock.advance(3);
    let reviewsCode = 200;
    if (version !== 'v1') {
      const g = hop(t.reviews, t.ratings, r.server, 'ratings');
      clock.advance(failing ? 90 : 20 + (i % 5) * 3);
      const code = failing ? 500 : 200;
      t.ratings.end(g.server, rec({ path: '/ratings/0', authority: 'ratings:9080', responseCode: code }));
      clock.advance(1);
      t.reviews.end(g.client, rec({ path: '/ratings/0', authority: 'ratings:9080', responseCode: code }));
      if (failing) reviewsCode = 500;
    }
    clock.advance(4);
    t.reviews.end(
      r.server,
      rec({ path: '/reviews/0', authority: 'reviews:9080', responseCode: reviewsCode }),
    );
    clock.advance(1);
    t.productpage.end(
      r.client,
      rec({ path: '/reviews/0', authority: 'reviews:9080', responseCode: reviewsCode }),
    );
    clock.advance(2);
    t.productpage.end(root, rec({ path: '/productpage', authority: 'productpage:9080' }));
    clock.advance(opts.spacingMs);
  }
  return traceIds;
}

export interface DashboardFixture {
  url: string;
  clock: ManualClock;
  telemetry: EmbeddedTelemetry;
  traffic: BookinfoTraffic;
  config: FakeConfigView;
  proxies: FakeProxyView;
  runtime: FakeRuntimeView;
  api: ReturnType<typeof createApiServer>;
  traceIds: string[];
  /** Moves time forward by whole scrape intervals, with traffic and samples, firing the API's timers. */
  advance(seconds: number): void;
  close(): Promise<void>;
}

/**
 * Ten minutes of Bookinfo traffic (scraped every 5 s) and 30 traces ending at T_END, served by a real API
 * server on 127.0.0.1. `push: false` leaves the API to poll the views for changes.
 */
export async function startDashboardFixture(
  opts: { assetsDir?: string | false; push?: boolean; minutes?: number } = {},
): Promise<DashboardFixture> {
  const minutes = opts.minutes ?? 10;
  const clock = new ManualClock(T_END - minutes * 60_000);
  const telemetry = createEmbeddedTelemetry({ clock, scrapeIntervalMs: SCRAPE_MS });
  const traffic = new BookinfoTraffic();
  const scrapes = new Scrapes();
  const scrape = (at: number) => scrapes.scrape(telemetry, traffic, at);
  scrape(clock.now());
  recordProcesses(telemetry, clock.now(), SCRAPE_MS);
  const step = () => {
    traffic.advance(SCRAPE_MS / 1000);
    clock.advance(SCRAPE_MS);
    scrape(clock.now());
    recordProcesses(telemetry, clock.now(), SCRAPE_MS);
  };
  while (clock.now() < T_END) step();
  const traceIds = addBookinfoTraces(telemetry, {
    count: 30,
    startMs: T_END - 5 * 60_000,
    spacingMs: 7000,
    failEvery: 5,
  });
  const push = opts.push ?? true;
  const config = new FakeConfigView({ push });
  seedConfig(config);
  const proxies = new FakeProxyView(bookinfoProxies(clock.now()), { push });
  const runtime = new FakeRuntimeView(bookinfoMesh());
  const api = createApiServer({
    config,
    proxies,
    runtime,
    telemetry,
    clock,
    telemetryTickMs: SCRAPE_MS,
    pollMs: 1000,
    ...(opts.assetsDir === undefined ? {} : { assetsDir: opts.assetsDir }),
  });
  const { url } = await api.listen(0, '127.0.0.1');
  return {
    url,
    clock,
    telemetry,
    traffic,
    config,
    proxies,
    runtime,
    api,
    traceIds,
    advance(seconds: number) {
      for (let i = 0; i < Math.round((seconds * 1000) / SCRAPE_MS); i++) {
        traffic.advance(SCRAPE_MS / 1000);
        // Samples first, then time: the telemetry tick that the clock fires sees the new data.
        scrape(clock.now() + SCRAPE_MS);
        recordProcesses(telemetry, clock.now() + SCRAPE_MS, SCRAPE_MS);
        clock.advance(SCRAPE_MS);
      }
    },
    close: () => api.close(),
  };
}
