// Readiness probes as kubelet runs them: httpGet, tcpSocket or exec, with periods, thresholds and timeouts.

import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { Probe } from '../api/types/index.js';
import { type Clock, systemClock, type Timer } from '../shared/clock.js';

export interface ProbeTarget {
  /** Where the app listens as seen from the daemon (pod IP, or the app's loopback address in host mode). */
  host: string;
  /** Source address for probe connections (netns mode: the bridge's prober address, exempt from capture). */
  localAddress?: string;
  namedPorts: ReadonlyMap<string, number>;
  /** Runs an exec probe's command where the app runs (e.g. `ip netns exec <ns>`). */
  execPrefix: string[];
  env: Record<string, string>;
  cwd: string;
}

function portOf(p: number | string, t: ProbeTarget): number | undefined {
  if (typeof p === 'number') return p;
  const n = Number(p);
  return Number.isInteger(n) && n > 0 ? n : t.namedPorts.get(p);
}

export function tcpCheck(
  host: string,
  port: number,
  timeoutMs: number,
  localAddress?: string,
): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** An HTTP GET that counts 200-399 as success, as kubelet does. */
export function httpCheck(o: {
  host: string;
  port: number;
  path: string;
  timeoutMs: number;
  localAddress?: string;
}): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(
      {
        host: o.host,
        port: o.port,
        path: o.path,
        timeout: o.timeoutMs,
        agent: false,
        headers: { 'user-agent': 'kube-probe/trellis' },
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      },
      (res) => {
        res.resume();
        resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
      },
    );
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}

function execCheck(command: string[], t: ProbeTarget, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const argv = [...t.execPrefix, ...command];
    const child = spawn(argv[0]!, argv.slice(1), {
      env: t.env,
      cwd: t.cwd,
      stdio: 'ignore',
      timeout: timeoutMs,
    });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/** One probe attempt. A probe without any action (or the default of no declared ports) succeeds. */
export async function runProbe(probe: Probe, t: ProbeTarget): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const port = portOf(probe.httpGet.port, t);
    if (port === undefined) return false;
    return httpCheck({
      host: t.host,
      port,
      path: probe.httpGet.path ?? '/',
      timeoutMs,
      ...(t.localAddress ? { localAddress: t.localAddress } : {}),
    });
  }
  if (probe.tcpSocket) {
    const port = portOf(probe.tcpSocket.port, t);
    return port !== undefined && tcpCheck(t.host, port, timeoutMs, t.localAddress);
  }
  if (probe.exec) return execCheck(probe.exec.command, t, timeoutMs);
  return true;
}

/** The probe used when a container declares none: every declared container port accepts a TCP connection. */
export function defaultProbe(ports: readonly number[]): (t: ProbeTarget) => Promise<boolean> {
  return async (t) => {
    for (const port of ports) if (!(await tcpCheck(t.host, port, 1000, t.localAddress))) return false;
    return true;
  };
}

export interface ReadinessLoopOptions {
  check: () => Promise<boolean>;
  probe?: Probe;
  onChange: (ready: boolean) => void;
  clock?: Clock;
  /** Until the first success the loop probes this often rather than every periodSeconds, so pods turn ready fast. */
  startupIntervalMs?: number;
}

/** Probes until stopped; reports ready after successThreshold successes and unready after failureThreshold failures. */
export class ReadinessLoop {
  readonly #o: ReadinessLoopOptions;
  readonly #clock: Clock;
  #timer: Timer | undefined;
  #stopped = false;
  #ready = false;
  #everReady = false;
  #successes = 0;
  #failures = 0;

  constructor(o: ReadinessLoopOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
  }

  get ready(): boolean {
    return this.#ready;
  }

  start(): void {
    const initial = (this.#o.probe?.initialDelaySeconds ?? 0) * 1000;
    this.#schedule(initial);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimeout(() => void this.#tick(), ms);
    this.#timer.unref?.();
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    const ok = await this.#o.check().catch(() => false);
    if (this.#stopped) return;
    const p = this.#o.probe;
    if (ok) {
      this.#failures = 0;
      this.#successes++;
      if (!this.#ready && this.#successes >= (p?.successThreshold ?? 1)) this.#set(true);
    } else {
      this.#successes = 0;
      this.#failures++;
      if (this.#ready && this.#failures >= (p?.failureThreshold ?? 3)) this.#set(false);
    }
    const period = (p?.periodSeconds ?? 10) * 1000;
    this.#schedule(this.#everReady ? period : Math.min(period, this.#o.startupIntervalMs ?? 200));
  }

  #set(ready: boolean): void {
    this.#ready = ready;
    if (ready) this.#everReady = true;
    this.#o.onChange(ready);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    if (this.#ready) this.#set(false);
  }
}

/** The probe in words, for "why is this pod not ready" messages. */
export function describeProbe(probe: Probe | undefined, ports: readonly number[]): string {
  if (probe?.httpGet) return `readiness probe GET :${probe.httpGet.port}${probe.httpGet.path ?? '/'}`;
  if (probe?.tcpSocket) return `readiness probe TCP :${probe.tcpSocket.port}`;
  if (probe?.exec) return `readiness probe \`${probe.exec.command.join(' ')}\``;
  return ports.length > 0
    ? `a TCP connection to port ${ports.join(', ')} (no readiness probe declared)`
    : 'the process to run';
}
