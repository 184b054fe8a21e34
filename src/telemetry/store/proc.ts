// CPU and memory of arbitrary processes from /proc, pushed into the store by the runtime.

import { readFile } from 'node:fs/promises';
import { type Clock, systemClock, type Timer } from '../../shared/clock.js';
import { TrellisError } from '../../shared/errors.js';
import type { TimeSeriesStore } from './tsdb.js';

export interface ProcessSample {
  pid: number;
  /** utime + stime, in seconds. */
  cpuSeconds: number;
  /** VmRSS in bytes. */
  rssBytes: number;
  threads: number;
}

/** Linux USER_HZ; 100 on every mainstream architecture (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS = 100;

/** Parses /proc/PID/stat: fields after the last `)` (the command name may contain spaces and parens). */
export function parseProcStat(text: string): { utimeTicks: number; stimeTicks: number; threads: number } {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new TrellisError('PROC_PARSE', 'malformed /proc/PID/stat: no command name');
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // f[0] is field 3 (state); utime is field 14, stime 15, num_threads 20.
  return { utimeTicks: Number(f[11]), stimeTicks: Number(f[12]), threads: Number(f[17]) };
}

/** VmRSS from /proc/PID/status, in bytes. */
export function parseProcStatusRss(text: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Reads one process; throws TrellisError PROC_GONE when it has exited. */
export async function readProcessSample(pid: number): Promise<ProcessSample> {
  let stat: string;
  let status: string;
  try {
    [stat, status] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/status`, 'utf8'),
    ]);
  } catch (e) {
    throw new TrellisError(
      'PROC_GONE',
      `process ${pid} is not running (${(e as NodeJS.ErrnoException).code})`,
      {
        pid,
      },
    );
  }
  const s = parseProcStat(stat);
  return {
    pid,
    cpuSeconds: (s.utimeTicks + s.stimeTicks) / CLOCK_TICKS,
    rssBytes: parseProcStatusRss(status),
    threads: s.threads,
  };
}

export const PROCESS_CPU = 'process_cpu_seconds_total';
export const PROCESS_RSS = 'process_resident_memory_bytes';

/** Records samples for tracked PIDs every interval; a process that exits stops being tracked. */
export class ProcessSampler {
  readonly #store: TimeSeriesStore;
  readonly #clock: Clock;
  readonly #interval: number;
  readonly #tracked = new Map<number, Record<string, string>>();
  #timer: Timer | undefined;

  constructor(opts: { store: TimeSeriesStore; intervalMs?: number; clock?: Clock }) {
    this.#store = opts.store;
    this.#clock = opts.clock ?? systemClock;
    this.#interval = opts.intervalMs ?? 5000;
  }

  /** Starts sampling a process with labels such as pod, namespace, role (`proxy` | `app`). */
  track(pid: number, labels: Record<string, string>): void {
    this.#tracked.set(pid, { ...labels, pid: String(pid) });
  }

  untrack(pid: number): void {
    this.#tracked.delete(pid);
  }

  /** Records a sample the runtime obtained itself (e.g. for a process in another namespace). */
  record(labels: Record<string, string>, sample: ProcessSample, atMs = this.#clock.now()): void {
    const l = { ...labels, pid: String(sample.pid) };
    this.#store.append(PROCESS_CPU, l, atMs, sample.cpuSeconds);
    this.#store.append(PROCESS_RSS, l, atMs, sample.rssBytes);
  }

  async sampleOnce(): Promise<void> {
    const now = this.#clock.now();
    await Promise.all(
      [...this.#tracked].map(async ([pid, labels]) => {
        try {
          this.record(labels, await readProcessSample(pid), now);
        } catch {
          this.#tracked.delete(pid);
        }
      }),
    );
  }

  start(): void {
    if (this.#timer) return;
    const tick = () => {
      void this.sampleOnce();
      this.#timer = this.#clock.setTimeout(tick, this.#interval);
      this.#timer.unref?.();
    };
    tick();
  }

  stop(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
