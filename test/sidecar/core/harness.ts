// A control plane, a registry we feed, and host-mode sidecars started in this process, for the core's tests.

import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeService, MeshConfig, Resource } from '../../../src/api/types/index.js';
import { type ControlPlane, startControlPlane } from '../../../src/controlplane/main.js';
import type { Workload } from '../../../src/registry/model.js';
import { createLogger, type Logger, silentLogger } from '../../../src/shared/log.js';
import { type Bootstrap, validateBootstrap } from '../../../src/sidecar/runtime/bootstrap.js';
import type { HttpConnectionManagerFactory } from '../../../src/sidecar/runtime/contracts.js';
import { Sidecar } from '../../../src/sidecar/runtime/sidecar.js';

export interface ServicePortSpec {
  name: string;
  port: number;
  targetPort?: number;
  appProtocol?: string;
}

export interface PodSpec {
  name: string;
  app: string;
  version?: string;
  namespace?: string;
  serviceAccount?: string;
  /** Container ports (the ports the sidecar's inbound listeners serve). */
  ports?: { name?: string; port: number }[];
  /** No sidecar: the pod's app is reached directly (plaintext, tlsMode disabled). */
  sidecar?: boolean;
  ready?: boolean;
  labels?: Record<string, string>;
  /** Bootstrap overrides (drain timeout...). */
  bootstrap?: Partial<Bootstrap>;
  /** The identity the sidecar actually holds, when it differs from the registry's (an impostor). */
  certServiceAccount?: string;
  /**
   * The sidecar runs as a separate `trellis proxy` process the test starts: the bootstrap uses Istio's fixed
   * ports on the pod's address (admin 15000, stats 15090, readiness 15021, merged metrics 15020).
   */
  external?: boolean;
}

export interface TestPod {
  spec: PodSpec;
  /** The pod's own loopback address: its sidecar binds here (host mode). */
  ip: string;
  /** Where the pod's app listens (APP_ADDRESS). */
  appIp: string;
  sidecar: Sidecar | undefined;
  bootstrap: Bootstrap;
  bootstrapPath: string;
}

export interface TestMeshOptions {
  /** First two octets of every address this mesh uses (`127.31`); distinct per test file. */
  prefix: string;
  configs?: Resource[];
  meshConfig?: MeshConfig;
  hcmFactory?: HttpConnectionManagerFactory;
}

function log(component: string): Logger {
  return process.env.TRELLIS_TEST_LOG
    ? createLogger({ component, level: process.env.TRELLIS_TEST_LOG as 'debug' })
    : silentLogger;
}

export class TestMesh {
  readonly dir: string;
  readonly opts: TestMeshOptions;
  cp!: ControlPlane;
  readonly services: KubeService[] = [];
  readonly workloads: Workload[] = [];
  readonly pods: TestPod[] = [];
  #vip = 1;

  private constructor(opts: TestMeshOptions) {
    this.opts = opts;
    this.dir = mkdtempSync(join(tmpdir(), 'trellis-core-'));
  }

  static async start(opts: TestMeshOptions): Promise<TestMesh> {
    const mesh = new TestMesh(opts);
    await mesh.startControlPlane();
    return mesh;
  }

  /** Starts (or restarts, on the same ports and state) the control plane, and feeds it the registry. */
  async startControlPlane(ports?: { xdsPort: number; xdsTlsPort: number; apiPort: number }): Promise<void> {
    this.cp = await startControlPlane({
      stateDir: join(this.dir, 'cp'),
      listen: {
        hosts: ['127.0.0.1'],
        xdsPort: ports?.xdsPort ?? 0,
        xdsTlsPort: ports?.xdsTlsPort ?? 0,
        apiPort: ports?.apiPort ?? 0,
      },
      debounceMs: 10,
      maxDebounceMs: 50,
      ...(this.opts.meshConfig && { meshConfig: this.opts.meshConfig }),
      logger: log('cp'),
    });
    if (this.opts.configs?.length) await this.apply(this.opts.configs);
    this.#push();
  }

  async apply(resources: Resource[]): Promise<void> {
    const r = await this.cp.config.apply(resources);
    if (!r.ok) throw new Error(`config refused: ${JSON.stringify(r.messages)}`);
  }

  addService(name: string, ports: ServicePortSpec[], selector: Record<string, string> = { app: name }): void {
    this.services.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'default' },
      spec: {
        selector,
        clusterIP: `10.96.${Math.floor(this.#vip / 250)}.${(this.#vip++ % 250) + 1}`,
        ports: ports.map((p) => ({
          name: p.name,
          port: p.port,
          targetPort: p.targetPort ?? p.port,
          ...(p.appProtocol && { appProtocol: p.appProtocol }),
        })),
      },
    } as KubeService);
    this.#push();
  }

  /** Registers the pod and, unless `sidecar: false`, starts its sidecar (not waiting for readiness). */
  async startPod(spec: PodSpec): Promise<TestPod> {
    const n = this.pods.length + 2;
    const ip = `${this.opts.prefix}.0.${n}`;
    const appIp = `${this.opts.prefix}.1.${n}`;
    const ns = spec.namespace ?? 'default';
    const sa = spec.serviceAccount ?? spec.app;
    const version = spec.version ?? 'v1';
    const labels = { app: spec.app, version, ...spec.labels };
    const hasSidecar = spec.sidecar !== false;
    this.workloads.push({
      name: spec.name,
      namespace: ns,
      labels,
      annotations: {},
      ip: hasSidecar ? ip : appIp,
      serviceAccount: sa,
      workloadName: `${spec.app}-${version}`,
      containerPorts: (spec.ports ?? []).map((p) => ({ ...(p.name && { name: p.name }), port: p.port })),
      ready: spec.ready ?? true,
      hasSidecar,
    });
    this.#push();
    const caFile = join(this.dir, 'root-cert.pem');
    writeFileSync(caFile, this.cp.caRootPem());
    const certSa = spec.certServiceAccount ?? sa;
    const tokenFile = join(this.dir, `${spec.name}.token`);
    writeFileSync(
      tokenFile,
      await this.cp.issueWorkloadToken({
        namespace: ns,
        serviceAccount: certSa,
        podName: spec.name,
        podUid: `uid-${spec.name}`,
      }),
    );
    const bootstrap = validateBootstrap({
      node: {
        id: `sidecar~${ip}~${spec.name}.${ns}~${ns}.svc.cluster.local`,
        cluster: `${spec.app}.${ns}`,
        metadata: {
          NAMESPACE: ns,
          NAME: spec.name,
          WORKLOAD_NAME: `${spec.app}-${version}`,
          SERVICE_ACCOUNT: certSa,
          LABELS: labels,
          INSTANCE_IPS: ip,
          INTERCEPTION_MODE: 'NONE',
          PROXY_HTTP_PORT: '15080',
          APP_ADDRESS: appIp,
          CLUSTER_ID: 'Kubernetes',
          MESH_ID: 'cluster.local',
        },
      },
      xds: { address: this.cp.addresses.xdsTls, tls: true, caCertificateFile: caFile },
      ca: { address: this.cp.addresses.xdsTls, tokenFile },
      admin: {
        address: ip,
        port: spec.external ? 15000 : 0,
        socketPath: join(this.dir, `${spec.name}.admin.sock`),
      },
      ports: spec.external
        ? { stats: 15090, mergedMetrics: 15020, readiness: 15021 }
        : { stats: 0, mergedMetrics: 0, readiness: 0 },
      bindAddress: ip,
      drainTimeoutMs: 2000,
      ...spec.bootstrap,
    });
    const bootstrapPath = join(this.dir, `${spec.name}.bootstrap.json`);
    writeFileSync(bootstrapPath, JSON.stringify(bootstrap, null, 2));
    const pod: TestPod = { spec, ip, appIp, sidecar: undefined, bootstrap, bootstrapPath };
    if (hasSidecar && !spec.external) {
      pod.sidecar = await Sidecar.start({
        bootstrap,
        logger: log(spec.name),
        logLevel: 'debug',
        xdsBackoff: { baseMs: 50, maxMs: 500 },
        caRetry: { baseMs: 50, maxMs: 500 },
        ...(this.opts.hcmFactory && { hcmFactory: this.opts.hcmFactory }),
      });
    }
    this.pods.push(pod);
    return pod;
  }

  setReady(name: string, ready: boolean): void {
    const w = this.workloads.find((x) => x.name === name);
    if (w) w.ready = ready;
    this.#push();
  }

  async stop(): Promise<void> {
    await Promise.all(this.pods.map((p) => p.sidecar?.stop()));
    await this.cp.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  #push(): void {
    if (!this.cp) return;
    this.cp.registry.setServices([...this.services]);
    this.cp.registry.setWorkloads(this.workloads.map((w) => ({ ...w })));
  }
}

/** An HTTP/1.1 server on `host:port` answering with who it is and what it got. */
export async function startHttpApp(
  host: string,
  port: number,
  name: string,
  handler?: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<http.Server> {
  const server = http.createServer(
    handler ??
      ((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = JSON.stringify({
            server: name,
            method: req.method,
            url: req.url,
            host: req.headers.host,
            body: Buffer.concat(chunks).toString('utf8'),
          });
          res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': name });
          res.end(body);
        });
      }),
  );
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}

/** A TCP echo server (half-close aware: it ends its side after the client's FIN). */
export async function startEchoApp(host: string, port: number, prefix = ''): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', (d) => s.write(prefix + d.toString('latin1')));
    s.on('end', () => s.end());
    s.on('error', () => {});
  });
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}

export interface ProxyResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What an app does with HTTP_PROXY: an absolute-form request to its sidecar's explicit proxy (15080). */
export function viaProxy(
  pod: TestPod,
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; agent?: http.Agent } = {},
): Promise<ProxyResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: pod.ip,
        port: 15080,
        method: opts.method ?? 'GET',
        path: url,
        headers: { host: u.host, ...opts.headers },
        agent: opts.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** GET on a sidecar's admin API. */
export async function admin(pod: TestPod, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${pod.sidecar!.adminUrl}${path}`);
  return { status: res.status, body: await res.text() };
}

/** Polls `check` (a few ms apart) until it returns true; for state that only changes asynchronously. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const start = Date.now();
  for (;;) {
    if (await check()) return;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function closeServer(server: net.Server | http.Server): Promise<void> {
  (server as http.Server).closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
