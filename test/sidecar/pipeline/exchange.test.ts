// Metadata exchange and telemetry across two pipelines back to back (client sidecar → server sidecar → app).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ISTIO_TEXT_FORMAT } from '../../../src/telemetry/accesslog/formats.js';
import { otlpJsonEncoder, zipkinJsonEncoder } from '../../../src/telemetry/trace/encode.js';
import { BatchSpanExporter } from '../../../src/telemetry/trace/exporter.js';
import { TestCollector } from '../../../src/telemetry/trace/testing/collector.js';
import { TestClusters } from './clusters.js';
import {
  hcmConfig,
  type RunningPipeline,
  request,
  startPipeline,
  startUpstream,
  TestTelemetry,
  type Upstream,
} from './harness.js';
import { route, simpleTable } from './routes.js';

const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage';
const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews';

describe('metadata exchange and telemetry, productpage → reviews', () => {
  let app: Upstream;
  let server: RunningPipeline;
  let client: RunningPipeline;
  const collector = new TestCollector();
  const exporters: BatchSpanExporter[] = [];
  const tracing = {
    randomSamplingPercent: 100,
    provider: {
      kind: 'zipkin' as const,
      collectorCluster: 'zipkin',
      endpoint: '/api/v2/spans',
      traceId128bit: true,
      sharedSpanContext: false,
    },
    customTags: [],
    spawnUpstreamSpan: false,
  };

  before(async () => {
    const endpoint = await collector.start();
    // Spans leave each sidecar the way the core exports them: the server's as OTLP, the client's as Zipkin.
    exporters.push(new BatchSpanExporter({ endpoint, encoder: otlpJsonEncoder, flushIntervalMs: 10 }));
    exporters.push(new BatchSpanExporter({ endpoint, encoder: zipkinJsonEncoder, flushIntervalMs: 10 }));
    app = await startUpstream((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url }));
    });
    const serverClusters = new TestClusters();
    serverClusters.add({
      name: 'inbound|9080||',
      endpoints: [{ port: app.port }],
      services: [{ host: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' }],
    });
    server = await startPipeline({
      config: hcmConfig({
        statPrefix: 'inbound_0.0.0.0_9080',
        routeConfig: simpleTable(route({ name: 'default', route: { cluster: 'inbound|9080||' } })),
        tracing,
        accessLog: [{ path: '/dev/stdout', format: { kind: 'text', text: ISTIO_TEXT_FORMAT } }],
      }),
      clusters: serverClusters,
      direction: 'inbound',
      peerIdentity: CLIENT_ID,
      telemetry: new TestTelemetry({
        local: {
          workloadName: 'reviews-v2',
          app: 'reviews',
          version: 'v2',
          canonicalService: 'reviews',
          canonicalRevision: 'v2',
          principal: SERVER_ID,
        },
        spanSink: exporters[0],
      }),
    });
    const clientClusters = new TestClusters();
    clientClusters.add({
      name: 'outbound|9080||reviews.default.svc.cluster.local',
      endpoints: [{ port: server.port }],
      services: [{ host: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' }],
    });
    client = await startPipeline({
      config: hcmConfig({
        routeConfig: simpleTable(
          route({
            name: 'reviews.default.svc.cluster.local:9080',
            route: { cluster: 'outbound|9080||reviews.default.svc.cluster.local' },
          }),
        ),
        tracing,
        accessLog: [
          {
            path: '/dev/stdout',
            format: { kind: 'text', text: '%REQ(X-REQUEST-ID)% %UPSTREAM_CLUSTER% %RESPONSE_CODE%\n' },
          },
        ],
      }),
      clusters: clientClusters,
      direction: 'outbound',
      telemetry: new TestTelemetry({ local: { principal: CLIENT_ID }, spanSink: exporters[1] }),
    });
  });
  after(async () => {
    await client.close();
    await server.close();
    await app.close();
    for (const e of exporters) await e.shutdown();
    await collector.close();
  });

  test('each side learns the other: the app and the client never see the peer headers', async () => {
    const r = await request(client.port, {
      path: '/reviews/0',
      headers: { host: 'reviews:9080', 'x-request-id': 'req-1' },
    });
    assert.equal(r.status, 200);
    assert.equal(
      r.headers['x-envoy-peer-metadata'],
      undefined,
      'the client app does not see the server peer headers',
    );
    assert.equal(r.headers['x-envoy-peer-metadata-id'], undefined);
    const seen = app.seen.at(-1)!;
    assert.equal(
      seen.headers['x-envoy-peer-metadata'],
      undefined,
      'the server app does not see the client peer headers',
    );
    assert.equal(
      seen.headers['x-request-id'],
      'req-1',
      'a request id from the app is preserved (preserve_external_request_id)',
    );
  });

  test('istio_requests_total from both reporters names both workloads', async () => {
    await server.telemetry.waitForLines(1);
    await client.telemetry.waitForLines(1);
    const dest = server.telemetry.requestsTotal()[0]!.labels;
    assert.equal(dest.reporter, 'destination');
    assert.equal(dest.source_workload, 'productpage-v1');
    assert.equal(dest.source_app, 'productpage');
    assert.equal(dest.source_version, 'v1');
    assert.equal(dest.source_canonical_service, 'productpage');
    assert.equal(dest.source_principal, CLIENT_ID);
    assert.equal(dest.source_workload_namespace, 'default');
    assert.equal(dest.destination_workload, 'reviews-v2');
    assert.equal(dest.destination_principal, SERVER_ID);
    assert.equal(dest.destination_service, 'reviews.default.svc.cluster.local');
    assert.equal(dest.connection_security_policy, 'mutual_tls');
    assert.equal(dest.response_code, '200');
    const src = client.telemetry.requestsTotal()[0]!.labels;
    assert.equal(src.reporter, 'source');
    assert.equal(src.source_workload, 'productpage-v1');
    assert.equal(src.destination_workload, 'reviews-v2');
    assert.equal(src.destination_app, 'reviews');
    assert.equal(src.destination_version, 'v2');
    assert.equal(src.destination_canonical_revision, 'v2');
    assert.equal(src.destination_service, 'reviews.default.svc.cluster.local');
    assert.equal(src.destination_service_name, 'reviews');
    assert.equal(src.connection_security_policy, 'unknown');
  });

  test('access log lines: Istio TEXT on the server, a custom format on the client', async () => {
    await client.telemetry.waitForLines(1);
    assert.equal(client.telemetry.lines[0], 'req-1 outbound|9080||reviews.default.svc.cluster.local 200\n');
    const line = server.telemetry.lines[0]!;
    assert.match(
      line,
      /^\[[^\]]+\] "GET \/reviews\/0 HTTP\/1\.1" 200 - via_upstream - "-" 0 \d+ \d+ \d+ "-" "-" "req-1" "reviews:9080" "127\.0\.0\.1:\d+" inbound\|9080\|\| /,
    );
  });

  test('spans reach the collector: a client span out, a server span in, one trace, parent and child', async () => {
    await collector.waitForSpans(2);
    const clientSpan = collector.spans.find((sp) => sp.kind === 'CLIENT')!;
    const serverSpan = collector.spans.find((sp) => sp.kind === 'SERVER')!;
    assert.deepEqual(collector.batches.map((b) => b.format).sort(), ['otlp', 'zipkin']);
    assert.equal(serverSpan.serviceName, 'reviews.default');
    assert.equal(clientSpan.serviceName, 'productpage.default');
    assert.equal(clientSpan.kind, 'CLIENT');
    assert.equal(serverSpan.kind, 'SERVER');
    assert.equal(serverSpan.traceId, clientSpan.traceId);
    assert.equal(serverSpan.parentSpanId, clientSpan.spanId);
    assert.equal(clientSpan.tags.upstream_cluster, 'outbound|9080||reviews.default.svc.cluster.local');
    assert.equal(clientSpan.tags['http.status_code'], '200');
    assert.equal(clientSpan.tags.response_flags, '-');
    assert.equal(serverSpan.tags['guid:x-request-id'], 'req-1');
    // the app got the server span's context, so its own calls continue the trace
    const seen = app.seen[0]!.headers;
    assert.equal(seen['x-b3-traceid'], clientSpan.traceId);
    assert.equal(seen['x-b3-spanid'], serverSpan.spanId);
    assert.match(String(seen.traceparent), new RegExp(`^00-${clientSpan.traceId}-${serverSpan.spanId}-01$`));
  });

  test('a request from outside the mesh (no peer headers) is answered without ours; labels fall back to unknown', async () => {
    const r = await request(server.port, { path: '/reviews/1' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-envoy-peer-metadata'], undefined);
    await server.telemetry.waitForLines(2);
    const unknownPeer = server.telemetry.requestsTotal().find((s) => s.labels.source_workload === 'unknown');
    assert.ok(unknownPeer, 'a series with source_workload="unknown"');
    assert.equal(unknownPeer.labels.source_canonical_revision, 'latest');
  });
});
