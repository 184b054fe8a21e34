import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GraphEdge, ServiceGraph } from '../../telemetry/store/graph.js';
import { serviceGraph, workloadGraph } from './graph-view.js';
import { healthOf } from './health.js';

test("health uses Kiali's default thresholds, 5xx strictly and 4xx leniently", () => {
  const h = (rate4xx: number, rate5xx: number) => healthOf({ requestRate: 100, rate4xx, rate5xx });
  assert.equal(healthOf({ requestRate: 0, rate4xx: 0, rate5xx: 0 }), 'idle');
  assert.equal(h(0, 0), 'healthy');
  assert.equal(h(9.9, 0), 'healthy');
  assert.equal(h(10, 0), 'degraded');
  assert.equal(h(20, 0), 'degraded');
  assert.equal(h(20.1, 0), 'failing');
  assert.equal(h(0, 0.1), 'degraded');
  assert.equal(h(0, 10), 'degraded');
  assert.equal(h(0, 10.1), 'failing');
  // 1 in 10 as rates from counters: a hair under 10 % must still count as 10 %.
  assert.equal(healthOf({ requestRate: 10.000000001, rate4xx: 1, rate5xx: 0 }), 'degraded');
});

const edge = (source: string, target: string, o: Partial<GraphEdge> = {}): GraphEdge => ({
  source,
  target,
  protocol: 'http',
  requestRate: 10,
  rate4xx: 0,
  rate5xx: 0,
  errorRate: 0,
  mtls: true,
  mtlsPercent: 100,
  reporter: 'destination',
  ...o,
});

const wl = (name: string, app: string, version: string) => ({
  id: `workload:default/${name}`,
  kind: 'workload' as const,
  name,
  namespace: 'default',
  app,
  version,
});
const svc = (name: string) => ({
  id: `service:${name}.default.svc.cluster.local`,
  kind: 'service' as const,
  name,
  namespace: 'default',
});

/** A front end calling api (two versions) and api calling db; `api-v2` is also called by `worker`. */
const graph: ServiceGraph = {
  windowMs: 60_000,
  atMs: 0,
  nodes: [
    wl('front-v1', 'front', 'v1'),
    wl('api-v1', 'api', 'v1'),
    wl('api-v2', 'api', 'v2'),
    wl('db-v1', 'db', 'v1'),
    svc('api'),
    svc('db'),
    svc('front'),
  ],
  edges: [
    edge('workload:default/front-v1', 'service:api.default.svc.cluster.local', {
      requestRate: 10,
      rate5xx: 1,
      errorRate: 0.1,
      p99: 50,
    }),
    edge('service:api.default.svc.cluster.local', 'workload:default/api-v1', { requestRate: 4 }),
    edge('service:api.default.svc.cluster.local', 'workload:default/api-v2', { requestRate: 6, rate5xx: 1 }),
    edge('workload:default/api-v1', 'service:db.default.svc.cluster.local', {
      requestRate: 4,
      p99: 20,
      mtlsPercent: 100,
    }),
    edge('workload:default/api-v2', 'service:db.default.svc.cluster.local', {
      requestRate: 6,
      p99: 80,
      mtls: false,
      mtlsPercent: 0,
    }),
    edge('service:db.default.svc.cluster.local', 'workload:default/db-v1', { requestRate: 10 }),
  ],
};

test('workload graph: every edge and node as telemetry built them, with inbound rates and health', () => {
  const g = workloadGraph(graph);
  assert.equal(g.edges.length, 6);
  const api = g.nodes.find((n) => n.id === 'service:api.default.svc.cluster.local')!;
  assert.equal(api.requestRate, 10);
  assert.equal(api.health, 'degraded');
  assert.equal(g.nodes.find((n) => n.id === 'workload:default/front-v1')!.health, 'idle');
});

test('service graph: workloads fold into the services that called them; folded edges add up', () => {
  const g = serviceGraph(graph);
  assert.deepEqual(
    g.edges.map((e) => e.id),
    [
      'service:api.default.svc.cluster.local->service:db.default.svc.cluster.local',
      'service:front.default.svc.cluster.local->service:api.default.svc.cluster.local',
    ],
  );
  const apiDb = g.edges[0]!;
  assert.equal(apiDb.requestRate, 10);
  assert.equal(apiDb.p99, 80, 'the slowest folded edge bounds p99');
  assert.equal(apiDb.mtls, true, 'some of it was mTLS');
  assert.equal(apiDb.mtlsPercent, 40, 'mTLS share weighted by rate');
  assert.deepEqual(g.nodes.find((n) => n.id === 'service:api.default.svc.cluster.local')!.workloads, [
    'api-v1',
    'api-v2',
  ]);
  // front-v1 served no observed traffic, but a service named like its app exists: it folds there.
  assert.deepEqual(g.nodes.find((n) => n.id === 'service:front.default.svc.cluster.local')!.workloads, [
    'front-v1',
  ]);
});

test('service graph: a caller with no service of its own becomes an app node', () => {
  const g = serviceGraph({
    ...graph,
    nodes: [...graph.nodes, wl('cron-v1', 'cron', 'v1')],
    edges: [
      ...graph.edges,
      edge('workload:default/cron-v1', 'service:db.default.svc.cluster.local', { requestRate: 1 }),
    ],
  });
  const cron = g.nodes.find((n) => n.id === 'app:default/cron')!;
  assert.equal(cron.kind, 'app');
  assert.deepEqual(cron.workloads, ['cron-v1']);
  assert.ok(g.edges.some((e) => e.id === 'app:default/cron->service:db.default.svc.cluster.local'));
});
