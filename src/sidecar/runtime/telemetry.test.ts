// The sidecar's telemetry sinks: access logs from several HCMs share a file, tracers export through the
// collector cluster's hosts without blocking, and the istio_* families render.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { systemClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/log.js';
import type { RequestRecord } from '../../telemetry/record.js';
import { TestCollector } from '../../telemetry/trace/testing/collector.js';
import type { TracingConfig } from '../config/model.js';
import { Host } from '../upstream/lb/host.js';
import { SidecarTelemetrySinks } from './telemetry.js';

const LOCAL = {
  workloadName: 'productpage-v1',
  namespace: 'default',
  canonicalService: 'productpage',
  canonicalRevision: 'v1',
  cluster: 'Kubernetes',
  nodeId: 'sidecar~10.0.0.5~productpage-v1-0.default~default.svc.cluster.local',
  meshId: 'cluster.local',
};

function record(path: string): RequestRecord {
  return {
    startTime: Date.now(),
    durationMs: 3,
    method: 'GET',
    path,
    responseCode: 200,
    responseFlags: '-',
    bytesReceived: 0,
    bytesSent: 12,
  };
}

test('access logs of several HCMs writing to one path share one sink, lines whole and in order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-telemetry-'));
  const path = join(dir, 'access.log');
  const sinks = new SidecarTelemetrySinks({
    local: LOCAL,
    collectors: { pickHost: () => undefined },
    clock: systemClock,
    logger: silentLogger,
  });
  try {
    const [a] = sinks.accessLoggers([{ path, format: { kind: 'text', text: 'A %REQ(:PATH)%\n' } }]);
    const [b] = sinks.accessLoggers([{ path, format: { kind: 'json', json: { b: '%REQ(:PATH)%' } } }]);
    const [again] = sinks.accessLoggers([{ path, format: { kind: 'text', text: 'A %REQ(:PATH)%\n' } }]);
    assert.equal(again, a, 'the same config gets the same logger');
    for (let i = 0; i < 50; i++) {
      a!.log(record(`/a${i}`));
      b!.log(record(`/b${i}`));
    }
    await sinks.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    assert.equal(lines.length, 100);
    assert.equal(lines[0], 'A /a0');
    assert.deepEqual(JSON.parse(lines[1]!), { b: '/b0' });
    assert.equal(lines[99], '{"b":"/b49"}');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spans go to a host of the collector cluster, picked when they are exported', async () => {
  const collector = new TestCollector();
  await collector.start();
  const url = new URL(collector.url);
  const picked: string[] = [];
  const sinks = new SidecarTelemetrySinks({
    local: LOCAL,
    collectors: {
      pickHost: (cluster) => {
        picked.push(cluster);
        return new Host({ address: url.hostname, port: Number(url.port) });
      },
    },
    clock: systemClock,
    logger: silentLogger,
  });
  const config: TracingConfig = {
    randomSamplingPercent: 100,
    provider: {
      kind: 'zipkin',
      collectorCluster: 'outbound|9411||zipkin.istio-system.svc.cluster.local',
      endpoint: '/api/v2/spans',
      traceId128bit: true,
      sharedSpanContext: false,
    },
    customTags: [],
    spawnUpstreamSpan: false,
  };
  const tracer = sinks.tracer(config)!;
  assert.equal(sinks.tracer({ ...config }), tracer, 'one tracer per distinct config');
  assert.equal(sinks.tracer(undefined), undefined);
  const span = tracer.startServerSpan({ headers: {}, operation: 'productpage.default:9080/*' });
  tracer.end(span, record('/productpage'));
  await sinks.close();
  await collector.waitForSpans(1);
  assert.deepEqual(picked, ['outbound|9411||zipkin.istio-system.svc.cluster.local']);
  const [got] = collector.spans;
  assert.equal(got!.name, 'productpage.default:9080/*');
  assert.equal(got!.serviceName, 'productpage.default');
  assert.equal(got!.tags.node_id, LOCAL.nodeId);
  await collector.close();
});

test('with no collector host the span is dropped and counted, never an error on the request path', () => {
  const sinks = new SidecarTelemetrySinks({
    local: LOCAL,
    collectors: { pickHost: () => undefined },
    clock: systemClock,
    logger: silentLogger,
  });
  const tracer = sinks.tracer({
    randomSamplingPercent: 100,
    provider: {
      kind: 'opentelemetry',
      collectorCluster: 'otel',
      uri: 'http://otel:4318/v1/traces',
      timeoutMs: 0,
      serviceName: '',
    },
    customTags: [],
    spawnUpstreamSpan: false,
  })!;
  tracer.end(tracer.startServerSpan({ headers: {}, operation: 'x' }), record('/x'));
  assert.equal(sinks.spanStats().dropped, 1);
  assert.equal(tracer.dropped, 1);
  void sinks.close();
});
