// tcp_proxy on real sockets: bytes and metrics, the idle timeout (injected clock), and max_connect_attempts.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { ManualClock, systemClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/log.js';
import type { RequestRecord } from '../../telemetry/record.js';
import type { TcpProxyConfig } from '../config/model.js';
import { DeadlineSweeper } from '../http/deadlines.js';
import type { DownstreamConnection } from '../runtime/contracts.js';
import { SidecarTelemetrySinks } from '../runtime/telemetry.js';
import type { TcpUpstream } from '../upstream/cluster/cluster.js';
import { ClusterFailure } from '../upstream/cluster/failure.js';
import { Host } from '../upstream/lb/host.js';
import { TcpProxy } from './tcp-proxy.js';

let echo: net.Server;
let echoPort = 0;
let front: net.Server;
const accepted: ((s: net.Socket) => void)[] = [];

before(async () => {
  echo = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', (d) => s.write(d));
    s.on('end', () => s.end());
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  echoPort = (echo.address() as net.AddressInfo).port;
  front = net.createServer({ allowHalfOpen: true }, (s) => accepted.shift()?.(s));
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
});

after(() => {
  echo.close();
  front.close();
});

const CONFIG: TcpProxyConfig = {
  statPrefix: 'outbound|9000||echo.default.svc.cluster.local',
  clusters: [{ name: 'outbound|9000||echo.default.svc.cluster.local', weight: 1 }],
  totalWeight: 1,
  idleTimeoutMs: 0,
  accessLog: [],
  maxConnectAttempts: 1,
};

const HOST = new Host({
  address: '127.0.0.1',
  port: 0,
  metadata: { istio: { workload: 'echo-v1;default;echo;v1;Kubernetes' } },
});

/** A cluster that connects straight to the echo server, failing the first `failures` attempts. */
function cluster(failures = 0) {
  let attempts = 0;
  return {
    attempts: () => attempts,
    config: {
      istio: { services: [{ host: 'echo.default.svc.cluster.local', name: 'echo', namespace: 'default' }] },
    },
    async connect(): Promise<TcpUpstream> {
      attempts++;
      if (attempts <= failures)
        throw new ClusterFailure({
          flag: 'UF',
          reason: `attempt ${attempts} refused`,
          retriable: true,
          host: HOST,
        });
      const socket = net.connect({ port: echoPort, host: '127.0.0.1', allowHalfOpen: true });
      await once(socket, 'connect');
      return { socket, host: HOST, done() {} };
    },
  };
}

async function proxied(proxy: TcpProxy): Promise<net.Socket> {
  const got = new Promise<net.Socket>((resolve) => accepted.push(resolve));
  const client = net.connect((front.address() as net.AddressInfo).port, '127.0.0.1');
  const socket = await got;
  const conn: DownstreamConnection = {
    socket,
    direction: 'outbound',
    listenerName: '0.0.0.0_9000',
    filterChainName: 'test',
    destination: { address: '10.96.0.1', port: 9000 },
    source: { address: '127.0.0.1', port: socket.remotePort ?? 0 },
    acceptedAt: Date.now(),
  };
  proxy.handle(conn);
  return client;
}

function telemetry(clock = systemClock) {
  const sinks = new SidecarTelemetrySinks({
    local: {
      workloadName: 'sleep',
      namespace: 'default',
      nodeId: 'sidecar~x~sleep-0.default~default.svc.cluster.local',
      meshId: 'cluster.local',
    },
    collectors: { pickHost: () => undefined },
    clock,
    logger: silentLogger,
  });
  const lines: RequestRecord[] = [];
  const accessLoggers = sinks.accessLoggers.bind(sinks);
  sinks.accessLoggers = (configs) => [
    ...accessLoggers(configs),
    { log: (r: RequestRecord) => lines.push(r) },
  ];
  return { sinks, lines };
}

test('bytes both ways with a half-close, and Istio TCP metrics with the peer from endpoint metadata', async () => {
  const { sinks, lines } = telemetry();
  const proxy = new TcpProxy(CONFIG, {
    clusters: { get: () => cluster() },
    telemetry: sinks,
    sweeper: new DeadlineSweeper(),
    clock: systemClock,
    random: Math.random,
    logger: silentLogger,
  });
  const client = await proxied(proxy);
  client.end('hello');
  client.setEncoding('latin1');
  let got = '';
  client.on('data', (d: string) => {
    got += d;
  });
  await once(client, 'end');
  assert.equal(got, 'hello');
  await proxy.drain(performance.now() + 1000);
  const text = sinks.renderIstio();
  assert.match(
    text,
    /istio_tcp_sent_bytes_total\{reporter="source",.*destination_workload="echo-v1".*destination_service="echo.default.svc.cluster.local".*\} 5/,
  );
  assert.match(text, /istio_tcp_received_bytes_total\{.*\} 5/);
  assert.match(text, /istio_tcp_connections_opened_total\{.*\} 1/);
  assert.match(text, /istio_tcp_connections_closed_total\{.*\} 1/);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.bytesReceived, 5);
  assert.equal(lines[0]!.bytesSent, 5);
  assert.equal(lines[0]!.upstreamCluster, CONFIG.clusters[0]!.name);
  await sinks.close();
});

test('a connection idle for idle_timeout is closed on both sides', async () => {
  const clock = new ManualClock(0);
  const { sinks, lines } = telemetry(clock);
  const proxy = new TcpProxy(
    { ...CONFIG, idleTimeoutMs: 5000 },
    {
      clusters: { get: () => cluster() },
      telemetry: sinks,
      sweeper: new DeadlineSweeper({ clock }),
      clock,
      random: Math.random,
      logger: silentLogger,
    },
  );
  const client = await proxied(proxy);
  client.write('x');
  await once(client, 'data');
  const closed = once(client, 'close');
  clock.advance(4000);
  assert.equal(proxy.active, 1, 'still open before the timeout');
  clock.advance(2000);
  await closed;
  assert.equal(proxy.active, 0);
  assert.equal(lines[0]!.connectionTerminationDetails, 'idle_timeout');
  await sinks.close();
});

test('max_connect_attempts: connect failures are retried up to the limit, then the client is closed (UF)', async () => {
  const { sinks, lines } = telemetry();
  const deps = (c: ReturnType<typeof cluster>) => ({
    clusters: { get: () => c },
    telemetry: sinks,
    sweeper: new DeadlineSweeper(),
    clock: systemClock,
    random: Math.random,
    logger: silentLogger,
  });
  const patient = cluster(2);
  const ok = await proxied(new TcpProxy({ ...CONFIG, maxConnectAttempts: 3 }, deps(patient)));
  ok.end('third time');
  const [echoed] = await once(ok, 'data');
  assert.equal(echoed.toString(), 'third time');
  assert.equal(patient.attempts(), 3);
  const impatient = cluster(2);
  const refused = await proxied(new TcpProxy({ ...CONFIG, maxConnectAttempts: 2 }, deps(impatient)));
  refused.on('error', () => {});
  await once(refused, 'close');
  assert.equal(impatient.attempts(), 2);
  assert.equal(lines.at(-1)!.responseFlags, 'UF');
  await sinks.close();
});
