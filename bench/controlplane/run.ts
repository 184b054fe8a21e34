// Control-plane benchmark (not a test): N simulated ADS clients on a mesh of M services; measures change -> ACK
// convergence for config and endpoint changes, and the control plane's RSS and CPU seconds.
//
//   npm run bench:controlplane -- --clients 1000 --services 1000 --groups 10 --protocol both

import { type ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AdsServer } from '../../src/controlplane/server/ads-server.js';
import type { XdsEvent } from '../../src/controlplane/server/ads-stream.js';
import { SnapshotCache } from '../../src/controlplane/server/cache.js';
import { encodeResource } from '../../src/controlplane/server/resource.js';
import type { Snapshot } from '../../src/controlplane/server/snapshot.js';
import { ClusterSchema } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../src/xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { RouteConfigurationSchema } from '../../src/xds/gen/envoy/config/route/v3/route_pb.js';
import {
  CLUSTER_TYPE,
  ENDPOINT_TYPE,
  LISTENER_TYPE,
  PUSH_ORDER,
  ROUTE_TYPE,
} from '../../src/xds/type-urls.js';
import { type ClientsConfig, nodeId } from './clients.js';
import {
  buildMesh,
  cluster,
  groupSnapshot,
  loadAssignment,
  type Mesh,
  PORTS,
  routeConfig,
  services,
} from './synth.js';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000' },
    services: { type: 'string', default: '1000' },
    groups: { type: 'string', default: '10' },
    processes: { type: 'string', default: '2' },
    protocol: { type: 'string', default: 'both' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(args.clients);
const M = Number(args.services);
const G = Number(args.groups);
const P = Number(args.processes);

interface Phase {
  name: string;
  /** Per-proxy ms from the change to its last needed ACK. */
  p50: number;
  p99: number;
  max: number;
  /** Control-plane CPU seconds (user + system) from the change to the last ACK. */
  cpuSeconds: number;
  /** Time to build and encode the new resources and set the snapshots (part of the latency above). */
  buildMs: number;
  pushes: number;
}

interface Result {
  protocol: string;
  clients: number;
  services: number;
  groups: number;
  snapshotBytes: number;
  phases: Phase[];
  rssSteadyMb: number;
  rssPeakMb: number;
  heapUsedMb: number;
  cpuSecondsTotal: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The types the simulated sidecars subscribe to. */
const ADS_TYPES = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE];

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

/** Waits until every proxy ACKed, for each type whose version changed in its group, the new version. */
class ConvergenceTracker {
  #pending = new Map<string, Map<string, string>>();
  #started = 0;
  #latencies: number[] = [];
  #done: (() => void) | undefined;

  expect(
    proxies: Map<string, string>,
    before: Map<string, Snapshot>,
    after: Map<string, Snapshot>,
  ): Promise<number[]> {
    this.#pending.clear();
    this.#latencies = [];
    for (const [proxy, group] of proxies) {
      const need = new Map<string, string>();
      for (const t of ADS_TYPES) {
        const v = after.get(group)!.version(t);
        if (v !== before.get(group)?.version(t)) need.set(t, v);
      }
      if (need.size > 0) this.#pending.set(proxy, need);
    }
    this.#started = performance.now();
    return new Promise((resolve) => {
      this.#done = () => resolve([...this.#latencies].sort((a, b) => a - b));
      if (this.#pending.size === 0) this.#done();
    });
  }

  /** Resets the clock to when the change was made (after `expect`, before the snapshots are set). */
  markStart(at: number): void {
    this.#started = at;
  }

  get outstanding(): number {
    return this.#pending.size;
  }

  onEvent(e: XdsEvent): void {
    if (e.kind !== 'ack') return;
    const need = this.#pending.get(e.proxyId);
    if (!need || need.get(e.typeUrl) !== e.version) return;
    need.delete(e.typeUrl);
    if (need.size > 0) return;
    this.#pending.delete(e.proxyId);
    this.#latencies.push(performance.now() - this.#started);
    if (this.#pending.size === 0) this.#done?.();
  }
}

async function runOne(protocol: 'sotw' | 'delta'): Promise<Result> {
  const cache = new SnapshotCache();
  const tracker = new ConvergenceTracker();
  let pushes = 0;
  const server = new AdsServer({
    cache,
    resolveGroup: (p) => String(p.node.metadata.NAMESPACE ?? 'default'),
    onEvent: (e) => tracker.onEvent(e),
    metrics: {
      add: (spec, v) => {
        if (spec.name === 'pilot_xds_pushes') pushes += v;
      },
      set() {},
      observe() {},
    },
  });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });

  const mesh = buildMesh(M);
  const inbound = new Map();
  const groups = Array.from({ length: G }, (_, g) => `ns-${g}`);
  let current = new Map(groups.map((g) => [g, groupSnapshot(mesh, g, inbound)]));
  for (const [g, s] of current) cache.setSnapshot(g, s);
  const snapshotBytes = PUSH_ORDER.reduce(
    (n, t) =>
      n + [...current.get('ns-0')!.get(t).resources.values()].reduce((m, r) => m + r.bytes.byteLength, 0),
    0,
  );

  const proxies = new Map<string, string>();
  for (let i = 0; i < N; i++) proxies.set(nodeId(i), `ns-${i % G}`);

  let rssPeak = 0;
  let ticks = 0;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    if (++ticks % 100 === 0 && tracker.outstanding > 0)
      process.stderr.write(`  ${protocol}: ${tracker.outstanding} proxies not converged yet\n`);
  }, 50);
  const cpuStart = process.cpuUsage();

  // Initial sync: every client connects and ACKs every type.
  const initial = tracker.expect(proxies, new Map(), current);
  const t0 = performance.now();
  const children: ChildProcess[] = [];
  const script = fileURLToPath(new URL('./clients.js', import.meta.url));
  const routes = PORTS.filter((p) => mesh.services.some((s) => s.port === p)).map(String);
  for (let p = 0; p < P; p++) {
    const from = Math.floor((p * N) / P);
    const count = Math.floor(((p + 1) * N) / P) - from;
    const cfg: ClientsConfig = { port, protocol, from, count, groups: G, routes };
    children.push(fork(script, [JSON.stringify(cfg)], { stdio: 'inherit' }));
  }
  const cpuInitial = process.cpuUsage();
  const initialLat = await initial;
  const phases: Phase[] = [
    {
      name: 'initial sync (from spawning the clients)',
      p50: percentile(initialLat, 50),
      p99: percentile(initialLat, 99),
      max: performance.now() - t0,
      cpuSeconds: cpuSeconds(process.cpuUsage(cpuInitial)),
      buildMs: 0,
      pushes,
    },
  ];
  await server.pushesIdle();
  global.gc?.();
  const steady = process.memoryUsage();
  const rssSteady = steady.rss;
  const heapUsed = steady.heapUsed;
  if (process.env.BENCH_DEBUG) process.stderr.write(`  steady memory: ${JSON.stringify(steady)}\n`);

  const change = async (name: string, mutate: (m: Mesh) => void) => {
    pushes = 0;
    const cpu = process.cpuUsage();
    const start = performance.now();
    mutate(mesh);
    const next = new Map(groups.map((g) => [g, groupSnapshot(mesh, g, inbound)]));
    const converged = tracker.expect(proxies, current, next);
    tracker.markStart(start);
    for (const [g, s] of next) cache.setSnapshot(g, s, { queuedAt: start });
    const buildMs = performance.now() - start;
    if (process.env.BENCH_DEBUG)
      void server
        .pushesIdle()
        .then(() =>
          process.stderr.write(`  ${name}: writes done after ${(performance.now() - start).toFixed(0)} ms\n`),
        );
    current = next;
    const lat = await converged;
    phases.push({
      name,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      max: lat.at(-1) ?? 0,
      cpuSeconds: cpuSeconds(process.cpuUsage(cpu)),
      buildMs,
      pushes,
    });
    await server.pushesIdle();
  };

  const rollout = (count: number) => (m: Mesh) => {
    for (const s of m.services.slice(0, count)) {
      m.endpoints.set(
        s.cluster,
        encodeResource(ClusterLoadAssignmentSchema, loadAssignment(s, 3, Date.now() % 1000)),
      );
    }
  };
  await change('endpoints of 1 service', rollout(1));
  await change(`endpoints of ${Math.ceil(M / 10)} services (10%)`, rollout(Math.ceil(M / 10)));
  await change('config: 1 service added (CDS, EDS, RDS)', (m) => {
    const s = services(M + 1).at(-1)!;
    m.services.push(s);
    m.clusters.set(s.cluster, encodeResource(ClusterSchema, cluster(s)));
    m.endpoints.set(s.cluster, encodeResource(ClusterLoadAssignmentSchema, loadAssignment(s)));
    m.routes.set(String(s.port), encodeResource(RouteConfigurationSchema, routeConfig(s.port, m.services)));
  });
  await change('config: every cluster and route changed', (m) => {
    for (const s of m.services) m.clusters.set(s.cluster, encodeResource(ClusterSchema, cluster(s, 5)));
    for (const key of [...m.routes.keys()])
      m.routes.set(key, encodeResource(RouteConfigurationSchema, routeConfig(Number(key), m.services, 30)));
  });

  clearInterval(sampler);
  const cpuTotal = cpuSeconds(process.cpuUsage(cpuStart));
  for (const c of children) c.send({ stop: true });
  await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
  await server.close();
  return {
    protocol,
    clients: N,
    services: M,
    groups: G,
    snapshotBytes,
    phases,
    rssSteadyMb: rssSteady / 2 ** 20,
    rssPeakMb: Math.max(rssPeak, process.memoryUsage().rss) / 2 ** 20,
    heapUsedMb: heapUsed / 2 ** 20,
    cpuSecondsTotal: cpuTotal,
  };
}

function print(r: Result): void {
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');
  console.log(
    `\n${r.protocol.toUpperCase()}: ${r.clients} clients, ${r.services} services, ${r.groups} groups, ` +
      `${(r.snapshotBytes / 2 ** 20).toFixed(2)} MB of resources per proxy`,
  );
  console.log('| change | p50 ms | p99 ms | max ms | build ms | CP CPU s | responses |');
  console.log('|---|---|---|---|---|---|---|');
  for (const p of r.phases)
    console.log(
      `| ${p.name} | ${f(p.p50)} | ${f(p.p99)} | ${f(p.max)} | ${f(p.buildMs)} | ${p.cpuSeconds.toFixed(2)} | ${p.pushes} |`,
    );
  console.log(
    `control plane: RSS ${r.rssSteadyMb.toFixed(0)} MB steady (heap ${r.heapUsedMb.toFixed(0)} MB), ` +
      `${r.rssPeakMb.toFixed(0)} MB peak; ${r.cpuSecondsTotal.toFixed(1)} CPU s in total`,
  );
}

async function main(): Promise<void> {
  if (args.protocol === 'both') {
    console.log(
      `${new Date().toISOString()} ${os.cpus().length} x ${os.cpus()[0]?.model} node ${process.version}`,
    );
    console.log(
      `load average before: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    for (const protocol of ['sotw', 'delta']) {
      // A fresh process per protocol, so that one's memory does not show in the other's RSS.
      const child = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), '--protocol', protocol], {
        execArgv: ['--expose-gc'],
        stdio: 'inherit',
      });
      await new Promise((r) => child.once('exit', r));
    }
    console.log(
      `load average after: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    return;
  }
  const result = await runOne(args.protocol as 'sotw' | 'delta');
  if (args.json) console.log(JSON.stringify(result));
  else print(result);
}

await main();
