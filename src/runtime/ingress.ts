// The ingress gateway: a proxy in the host's namespace for Gateways that select `istio: ingressgateway`.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '../api/types/meta.js';
import type { Workload } from '../registry/model.js';
import type { Clock } from '../shared/clock.js';
import { gatewayBootstrap, SIDECAR_PORTS } from './bootstrap.js';
import { RotatingLog } from './log-file.js';
import { httpCheck, ReadinessLoop } from './probe.js';
import { writeFileAtomic } from './state-dir.js';
import { type RestartBackoff, SupervisedProcess } from './supervised-process.js';

export const INGRESS_NAMESPACE = 'istio-system';
export const INGRESS_NAME = 'istio-ingressgateway';
export const INGRESS_LABELS = { istio: 'ingressgateway', app: 'istio-ingressgateway' } as const;

interface GatewayServer {
  port?: { number?: number; protocol?: string; name?: string };
}

/** Gateways whose selector picks the ingress gateway's labels. */
export function ingressGateways(gateways: readonly Resource[]): Resource[] {
  return gateways.filter((g) => {
    const sel = (g.spec as { selector?: Record<string, string> }).selector ?? {};
    const keys = Object.keys(sel);
    return keys.length > 0 && keys.every((k) => (INGRESS_LABELS as Record<string, string>)[k] === sel[k]);
  });
}

/**
 * Gateway server port → host port on 127.0.0.1. The main port (the one equal to --ingress-port, else 80, else
 * 8080, else the lowest HTTP port, else the lowest) takes --ingress-port; the others keep their number when it
 * is unprivileged and get 18000 + port otherwise (80 → 18080), so no root is needed to bind them.
 */
export function ingressPortMap(gateways: readonly Resource[], ingressPort: number): Record<string, string> {
  const servers = gateways.flatMap((g) => (g.spec as { servers?: GatewayServer[] }).servers ?? []);
  const ports = [
    ...new Set(servers.map((s) => s.port?.number).filter((n): n is number => typeof n === 'number')),
  ].sort((a, b) => a - b);
  if (ports.length === 0) return {};
  const http = servers
    .filter((s) => /^(HTTP|HTTP2|GRPC)$/i.test(s.port?.protocol ?? ''))
    .map((s) => s.port!.number!);
  const main =
    ports.find((p) => p === ingressPort) ??
    ports.find((p) => p === 80) ??
    ports.find((p) => p === 8080) ??
    (http.length > 0 ? Math.min(...http) : ports[0]!);
  const out: Record<string, string> = {};
  for (const p of ports) out[String(p)] = String(p === main ? ingressPort : p >= 1024 ? p : 18000 + p);
  return out;
}

export interface IngressOptions {
  address: string;
  portMap: Record<string, string>;
  dir: string;
  logFile: string;
  xdsAddress: string;
  caRootFile: string;
  token: string;
  sidecarCommand: string[];
  processTag: string;
  backoff: RestartBackoff;
  drainTimeoutMs: number;
  clock: Clock;
  onChange: () => void;
}

export class IngressGateway {
  readonly #o: IngressOptions;
  readonly #proc: SupervisedProcess;
  readonly #log: RotatingLog;
  #readiness: ReadinessLoop | undefined;
  #ready = false;

  constructor(o: IngressOptions) {
    this.#o = o;
    mkdirSync(o.dir, { recursive: true });
    const tokenFile = join(o.dir, 'token');
    writeFileAtomic(tokenFile, o.token, 0o600);
    const bootstrap = gatewayBootstrap({
      identity: {
        podName: `${INGRESS_NAME}-0`,
        namespace: INGRESS_NAMESPACE,
        workloadName: INGRESS_NAME,
        serviceAccount: `${INGRESS_NAME}-service-account`,
        labels: { ...INGRESS_LABELS },
        ip: o.address,
        containerPorts: [],
        appContainers: [],
      },
      xdsAddress: o.xdsAddress,
      caCertificateFile: o.caRootFile,
      tokenFile,
      adminSocketPath: join(o.dir, 'admin.sock'),
      mode: 'host',
      drainTimeoutMs: o.drainTimeoutMs,
      portMap: o.portMap,
    });
    const bootstrapFile = join(o.dir, 'bootstrap.json');
    writeFileAtomic(bootstrapFile, `${JSON.stringify(bootstrap, null, 2)}\n`);
    this.#log = new RotatingLog({ path: o.logFile });
    this.#proc = new SupervisedProcess({
      name: INGRESS_NAME,
      argv: [...o.sidecarCommand, '--bootstrap', bootstrapFile],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/', TRELLIS_PROCESS_TAG: o.processTag },
      cwd: o.dir,
      log: this.#log,
      restartPolicy: 'Always',
      backoff: o.backoff,
      clock: o.clock,
    });
    this.#proc.on('start', () => this.#watch());
    this.#proc.on('exit', () => {
      this.#readiness?.stop();
      this.#ready = false;
      o.onChange();
    });
  }

  get ready(): boolean {
    return this.#ready;
  }

  get portMap(): Record<string, string> {
    return this.#o.portMap;
  }

  start(): void {
    this.#proc.start();
  }

  #watch(): void {
    this.#readiness?.stop();
    this.#readiness = new ReadinessLoop({
      check: () =>
        httpCheck({
          host: this.#o.address,
          port: SIDECAR_PORTS.readiness,
          path: '/healthz/ready',
          timeoutMs: 1000,
        }),
      probe: { periodSeconds: 5, failureThreshold: 2 },
      clock: this.#o.clock,
      startupIntervalMs: 100,
      onChange: (ready) => {
        this.#ready = ready;
        this.#o.onChange();
      },
    });
    this.#readiness.start();
  }

  workload(): Workload {
    return {
      name: `${INGRESS_NAME}-0`,
      namespace: INGRESS_NAMESPACE,
      labels: { ...INGRESS_LABELS },
      annotations: {},
      ip: this.#o.address,
      serviceAccount: `${INGRESS_NAME}-service-account`,
      workloadName: INGRESS_NAME,
      containerPorts: Object.values(this.#o.portMap).map((p) => ({ port: Number(p) })),
      ready: this.#ready,
      hasSidecar: true,
    };
  }

  status(): {
    ready: boolean;
    portMap: Record<string, string>;
    pid?: number;
    restarts: number;
    admin: string;
    stats: string;
    log: string;
  } {
    return {
      ready: this.#ready,
      portMap: this.#o.portMap,
      ...(this.#proc.pid !== undefined ? { pid: this.#proc.pid } : {}),
      restarts: this.#proc.restarts,
      admin: `unix:${join(this.#o.dir, 'admin.sock')}`,
      stats: `${this.#o.address}:${SIDECAR_PORTS.stats}`,
      log: this.#o.logFile,
    };
  }

  async stop(): Promise<void> {
    this.#readiness?.stop();
    await this.#proc.stop(this.#o.drainTimeoutMs + 2000);
    this.#log.close();
  }
}
