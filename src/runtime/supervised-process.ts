// One container's process: spawned in its own process group, logged to a rotating file, restarted with backoff.

import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { type Clock, systemClock, type Timer } from '../shared/clock.js';
import type { RotatingLog } from './log-file.js';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';
export type ProcessState = 'waiting' | 'running' | 'backoff' | 'completed' | 'failed' | 'stopped';

export interface RestartBackoff {
  /** First delay; it doubles after each crash (Kubernetes' CrashLoopBackOff, without jitter). */
  baseMs: number;
  maxMs: number;
  /** A run at least this long resets the delay to baseMs. */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { baseMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };

export interface SupervisedProcessOptions {
  name: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  log: RotatingLog;
  restartPolicy: RestartPolicy;
  backoff?: RestartBackoff;
  clock?: Clock;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the policy restarts the process after this delay. */
  restartInMs?: number;
}

/**
 * Emits `start` (pid), `exit` (ExitInfo) and `state` (ProcessState). Exit code 127 from a missing program and
 * spawn errors count as crashes, so a typo in a command shows up in the pod's restarts and log.
 */
export class SupervisedProcess extends EventEmitter {
  readonly name: string;
  readonly #o: SupervisedProcessOptions;
  readonly #clock: Clock;
  readonly #backoff: RestartBackoff;
  #child: ChildProcess | undefined;
  #state: ProcessState = 'waiting';
  #restarts = 0;
  #crashes = 0;
  #startedAt = 0;
  #timer: Timer | undefined;
  #stopping = false;
  #exited: Promise<void> = Promise.resolve();
  #lastExit: ExitInfo | undefined;

  constructor(o: SupervisedProcessOptions) {
    super();
    this.name = o.name;
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#backoff = o.backoff ?? DEFAULT_RESTART_BACKOFF;
  }

  get state(): ProcessState {
    return this.#state;
  }
  get pid(): number | undefined {
    return this.#child?.pid;
  }
  get restarts(): number {
    return this.#restarts;
  }
  get lastExit(): ExitInfo | undefined {
    return this.#lastExit;
  }

  start(): void {
    if (this.#stopping) return;
    const [cmd, ...args] = this.#o.argv;
    this.#startedAt = this.#clock.monotonic();
    this.#o.log.write(`[trellis] starting ${this.name}: ${this.#o.argv.join(' ')}\n`);
    let child: ChildProcess;
    try {
      child = spawn(cmd!, args, {
        cwd: this.#o.cwd,
        env: this.#o.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      this.#onExit({ code: 127, signal: null }, `cannot start: ${(e as Error).message}`);
      return;
    }
    this.#child = child;
    let resolveExit!: () => void;
    this.#exited = new Promise((r) => (resolveExit = r));
    child.stdout?.on('data', (d: Buffer) => this.#o.log.write(d));
    child.stderr?.on('data', (d: Buffer) => this.#o.log.write(d));
    let reported = false;
    child.once('error', (e) => {
      if (reported) return;
      reported = true;
      this.#child = undefined;
      this.#onExit({ code: 127, signal: null }, `cannot start: ${e.message}`);
      resolveExit();
    });
    child.once('close', (code, signal) => {
      if (reported) return;
      reported = true;
      this.#child = undefined;
      this.#onExit({ code, signal });
      resolveExit();
    });
    if (child.pid !== undefined) {
      this.#setState('running');
      this.emit('start', child.pid);
    }
  }

  #onExit(info: ExitInfo, why?: string): void {
    const ranMs = this.#clock.monotonic() - this.#startedAt;
    this.#o.log.write(
      `[trellis] ${this.name} exited${info.code !== null ? ` with code ${info.code}` : ''}${info.signal ? ` on ${info.signal}` : ''}${why ? `: ${why}` : ''}\n`,
    );
    if (this.#stopping) {
      this.#lastExit = info;
      this.#setState('stopped');
      this.emit('exit', info);
      return;
    }
    const success = info.code === 0;
    const policy = this.#o.restartPolicy;
    const restart = policy === 'Always' || (policy === 'OnFailure' && !success);
    if (!restart) {
      this.#lastExit = info;
      this.#setState(success ? 'completed' : 'failed');
      this.emit('exit', info);
      return;
    }
    if (ranMs >= this.#backoff.resetAfterMs) this.#crashes = 0;
    const delay = Math.min(this.#backoff.maxMs, this.#backoff.baseMs * 2 ** Math.min(this.#crashes, 20));
    this.#crashes++;
    const out: ExitInfo = { ...info, restartInMs: delay };
    this.#lastExit = out;
    this.#o.log.write(`[trellis] restarting ${this.name} in ${delay} ms\n`);
    this.#setState('backoff');
    this.emit('exit', out);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopping) return;
      this.#restarts++;
      this.start();
    }, delay);
  }

  #setState(s: ProcessState): void {
    this.#state = s;
    this.emit('state', s);
  }

  /** SIGTERM to the whole process group, SIGKILL after graceMs; resolves once the process is gone. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const child = this.#child;
    if (!child || child.pid === undefined) {
      if (this.#state !== 'completed' && this.#state !== 'failed') this.#setState('stopped');
      return;
    }
    const pid = child.pid;
    killGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), Math.max(0, graceMs));
    try {
      await this.#exited;
    } finally {
      clearTimeout(timer);
    }
    // Whatever the main process left behind in its group goes too.
    killGroup(pid, 'SIGKILL');
  }
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}
