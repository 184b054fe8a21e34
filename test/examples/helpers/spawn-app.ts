// Starts a compiled sample app as a child process on 127.0.0.1 and waits for its `listening on` line(s).

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** dist/, where the compiled apps live next to the compiled tests. */
export const DIST = fileURLToPath(new URL('../../../', import.meta.url));

export interface SpawnOptions {
  /** Path under dist/examples, e.g. `bookinfo/src/ratings/main.js`. */
  script: string;
  args?: string[];
  /** Added to a minimal environment (PATH, BIND_ADDRESS=127.0.0.1): no proxy settings leak in from the test runner. */
  env?: Record<string, string>;
  /** How many `listening on` lines to wait for (tcp-echo prints one per port). */
  listeners?: number;
}

export interface SpawnedApp {
  readonly child: ChildProcess;
  /** Ports from the `listening on` lines, in order. */
  readonly ports: number[];
  readonly port: number;
  /** Every stdout line so far. */
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves once at least `count` stdout lines (past or future) match `re`. */
  waitForLines(re: RegExp, count?: number, timeoutMs?: number): Promise<string[]>;
  stop(): Promise<void>;
}

const LISTENING = /listening on \S+:(\d+)/;

export async function spawnApp(opts: SpawnOptions): Promise<SpawnedApp> {
  return spawnCommand({
    name: opts.script,
    argv: [process.execPath, `${DIST}examples/${opts.script}`, ...(opts.args ?? [])],
    env: { PATH: process.env.PATH ?? '', BIND_ADDRESS: '127.0.0.1', ...opts.env },
    listeners: opts.listeners,
  });
}

export interface CommandOptions {
  /** For messages. */
  name: string;
  argv: string[];
  /** The whole environment of the process. */
  env: Record<string, string>;
  cwd?: string;
  listeners?: number;
}

/** Runs any command line (e.g. a manifest's container) and waits for its `listening on` lines. */
export async function spawnCommand(opts: CommandOptions): Promise<SpawnedApp> {
  const child = spawn(opts.argv[0]!, opts.argv.slice(1), {
    env: opts.env,
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const onChange = new Set<() => void>();
  const notify = () => {
    for (const f of [...onChange]) f();
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout.push(line);
    notify();
  });
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      notify();
      resolve();
    }),
  );

  const waitForLines = (re: RegExp, count = 1, timeoutMs = 10_000) =>
    new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(
        () => done(new Error(`${opts.name}: fewer than ${count} lines match ${re} after ${timeoutMs} ms`)),
        timeoutMs,
      );
      const check = () => {
        const matching = stdout.filter((l) => re.test(l));
        if (matching.length >= count) done(undefined, matching);
        else if (exited) done(new Error(`${opts.name} exited with ${child.exitCode}: ${stderr.join('\n')}`));
      };
      const done = (err: Error | undefined, lines: string[] = []) => {
        clearTimeout(timer);
        onChange.delete(check);
        if (err) reject(err);
        else resolve(lines);
      };
      onChange.add(check);
      check();
    });

  const lines = await waitForLines(LISTENING, opts.listeners ?? 1);
  const ports = lines.map((l) => Number(LISTENING.exec(l)![1]));
  return {
    child,
    ports,
    port: ports[0]!,
    stdout,
    stderr,
    waitForLines,
    stop: async () => {
      if (!exited) child.kill('SIGTERM');
      await exit;
    },
  };
}
