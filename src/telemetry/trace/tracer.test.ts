import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import type { RequestRecord } from '../record.js';
import { SequentialIdGenerator } from './ids.js';
import type { FinishedSpan } from './span.js';
import { Tracer, type TracerOptions } from './tracer.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

function tracer(extra: Partial<TracerOptions> = {}) {
  const exported: FinishedSpan[] = [];
  const clock = new ManualClock();
  const t = new Tracer({
    nodeId: 'sidecar~10.0.0.7~reviews-v2-5b4f.default~default.svc.cluster.local',
    canonicalService: 'reviews',
    canonicalRevision: 'v2',
    namespace: 'default',
    meshId: 'cluster.local',
    clusterId: 'Kubernetes',
    zone: 'zone-a',
    samplingPercentage: 50,
    ids: new SequentialIdGenerator(),
    clock,
    sink: {
      export: (s) => {
        exported.push(s);
        return true;
      },
    },
    ...extra,
  });
  return { t, exported, clock };
}

const rec = (o: Partial<RequestRecord> = {}): RequestRecord => ({
  startTime: 0,
  durationMs: 12,
  protocol: 'HTTP/1.1',
  method: 'GET',
  path: '/ratings/0',
  authority: 'ratings:9080',
  requestHeaders: { 'user-agent': 'Go-http-client/1.1', 'x-request-id': 'req-1' },
  responseCode: 200,
  responseFlags: '-',
  bytesReceived: 0,
  bytesSent: 48,
  upstreamCluster: 'outbound|9080||ratings.default.svc.cluster.local',
  downstreamRemoteAddress: '10.0.0.9:51234',
  ...o,
});

test('a sampled incoming context is continued: same trace, new span id, caller as parent', () => {
  const { t, exported, clock } = tracer({ random: () => 0.99 });
  const s = t.startServerSpan({
    headers: { traceparent: `00-${TRACE}-${SPAN}-01` },
    operation: 'reviews.default.svc.cluster.local:9080/*',
  });
  assert.equal(s.context.traceId, TRACE);
  assert.notEqual(s.context.spanId, SPAN);
  assert.equal(s.context.parentSpanId, SPAN);
  assert.equal(s.context.sampled, true, 'the caller decided; the percentage is not consulted');
  const out: Record<string, string | string[] | undefined> = {};
  t.inject(s, out);
  assert.equal(out.traceparent, `00-${TRACE}-${s.context.spanId}-01`);
  assert.equal(out['x-b3-traceid'], TRACE);
  assert.equal(out['x-b3-parentspanid'], SPAN);
  clock.advance(12);
  t.end(s, rec());
  assert.equal(exported.length, 1);
  assert.equal(exported[0]!.durationMs, 12);
});

test('x-b3-sampled: 0 is honoured and propagated; nothing is exported', () => {
  const { t, exported } = tracer({ random: () => 0 });
  const s = t.startServerSpan({
    headers: { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '0' },
    operation: 'op',
  });
  assert.equal(s.context.sampled, false);
  const c = t.startClientSpan({ headers: {}, operation: 'op', parent: s });
  const out: Record<string, string | string[] | undefined> = {};
  t.inject(c, out);
  assert.equal(out['x-b3-sampled'], '0');
  assert.equal(out.traceparent, `00-${TRACE}-${c.context.spanId}-00`);
  assert.equal(t.end(c, rec()), undefined);
  assert.equal(exported.length, 0);
});

test('without a decision the sampling percentage decides; debug forces sampling', () => {
  const low = tracer({ random: () => 0.3 }).t.startServerSpan({ headers: {}, operation: 'op' });
  assert.equal(low.context.sampled, true, '0.3 * 100 < 50');
  assert.equal(low.context.parentSpanId, undefined);
  assert.match(low.context.traceId, /^[0-9a-f]{32}$/);
  const high = tracer({ random: () => 0.7 }).t.startServerSpan({ headers: {}, operation: 'op' });
  assert.equal(high.context.sampled, false);
  const undecided = tracer({ random: () => 0.7 }).t.startServerSpan({
    headers: { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN },
    operation: 'op',
  });
  assert.equal(undecided.context.sampled, false, 'B3 without x-b3-sampled is decided locally');
  assert.equal(undecided.context.traceId, TRACE);
  const debug = tracer({ samplingPercentage: 0 }).t.startServerSpan({
    headers: { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '1', 'x-b3-sampled': '0' },
    operation: 'op',
  });
  assert.equal(debug.context.sampled, true);
  const zero = tracer({ samplingPercentage: 0, random: () => 0 }).t.startServerSpan({
    headers: {},
    operation: 'op',
  });
  assert.equal(zero.context.sampled, false);
});

test('client spans under a server span are its children; finished spans carry Istio/Envoy tags', () => {
  const { t, exported } = tracer({ random: () => 0 });
  const server = t.startServerSpan({ headers: {}, operation: 'reviews.default.svc.cluster.local:9080/*' });
  const client = t.startClientSpan({
    headers: {},
    operation: 'ratings.default.svc.cluster.local:9080/*',
    parent: server,
  });
  assert.equal(client.context.traceId, server.context.traceId);
  assert.equal(client.context.parentSpanId, server.context.spanId);
  t.end(client, rec({ responseCode: 503, responseFlags: 'UH' }));
  const s = exported[0]!;
  assert.equal(s.kind, 'CLIENT');
  assert.equal(s.serviceName, 'reviews.default');
  assert.deepEqual(s.tags, {
    component: 'proxy',
    node_id: 'sidecar~10.0.0.7~reviews-v2-5b4f.default~default.svc.cluster.local',
    'istio.canonical_service': 'reviews',
    'istio.canonical_revision': 'v2',
    'istio.namespace': 'default',
    'istio.mesh_id': 'cluster.local',
    'istio.cluster_id': 'Kubernetes',
    zone: 'zone-a',
    'http.url': 'http://ratings:9080/ratings/0',
    'http.method': 'GET',
    'http.protocol': 'HTTP/1.1',
    'http.status_code': '503',
    response_flags: 'UH',
    response_size: '48',
    request_size: '0',
    downstream_cluster: '-',
    user_agent: 'Go-http-client/1.1',
    'guid:x-request-id': 'req-1',
    upstream_cluster: 'outbound|9080||ratings.default.svc.cluster.local',
    'upstream_cluster.name': 'outbound|9080||ratings.default.svc.cluster.local',
    'peer.address': '10.0.0.9',
    error: 'true',
  });
  assert.equal(s.error, true);
});
