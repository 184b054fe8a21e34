// A reusable end-to-end harness: a mesh from a folder of manifests in a temp state dir, driven through the real
// `trellis` CLI (up -d, status, exec, logs, apply, down), plus a check that nothing was left behind.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { remainingResources } from '../../src/runtime/leftovers.js';
import type { MeshStatus } from '../../src/runtime/mesh.js';
import type { PodStatus } from '../../src/runtime/pod.js';
import { MeshPaths } from '../../src/runtime/state-dir.js';

/** The checkout (dist/test/e2e → the checkout). */
export const TRELLIS_HOME = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const BIN = join(TRELLIS_HOME, 'bin/trellis.js');
const FIXTURES = join(TRELLIS_HOME, 'dist/test/runtime/fixtures');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type PlaneChoice = 'real' | 'stand-in' | 'auto';

export interface MeshHarnessOptions {
  /** Folders or files of manifests for `trellis up`. */
  manifests: string[];
  mode?: 'auto' | 'netns' | 'host';
  /** Unique by default, so test files can run side by side. */
  name?: string;
  podCidr?: string;
  serviceCidr?: string;
  /** 0 (default) picks a free port. */
  ingressPort?: number;
  /**
   * `stand-in` uses test/runtime/fixtures (a contract-following control plane and sidecar); `real` the built
   * control plane and `trellis proxy`; `auto` (default) the real ones when they are built.
   */
  planes?: PlaneChoice;
  /** Extra environment for the daemon (e.g. TRELLIS_RESTART_BACKOFF). */
  env?: Record<string, string>;
  readyTimeoutS?: number;
}

/** Whether this build has the real control plane and sidecar; the harness falls back to the stand-ins otherwise. */
export function realPlanesBuilt(): boolean {
  return (
    existsSync(join(TRELLIS_HOME, 'dist/src/controlplane/main.js')) &&
    existsSync(join(TRELLIS_HOME, 'dist/src/cli/commands/proxy.js'))
  );
}

export function standInEnv(): Record<string, string> {
  return {
    TRELLIS_CONTROL_PLANE_MODULE: join(FIXTURES, 'stand-in-control-plane.js'),
    TRELLIS_SIDECAR_COMMAND: JSON.stringify([process.execPath, join(FIXTURES, 'stand-in-sidecar.js')]),
  };
}

/** Runs `trellis <args>` and collects its output; never rejects on a non-zero exit. */
export function trellis(
  args: string[],
  o: { env: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: o.env,
      cwd: o.cwd ?? TRELLIS_HOME,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: o.timeoutMs ?? 240_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.end(o.input ?? '');
  });
}

export class MeshHarness {
  readonly name: string;
  readonly stateRoot: string;
  readonly env: NodeJS.ProcessEnv;
  readonly paths: MeshPaths;
  readonly #o: MeshHarnessOptions;
  #status: MeshStatus | undefined;

  private constructor(o: MeshHarnessOptions) {
    this.#o = o;
    this.name = o.name ?? `t${process.pid}${Math.random().toString(36).slice(2, 6)}`;
    this.stateRoot = mkdtempSync(join(tmpdir(), 'trellis-e2e-'));
    const planes = o.planes ?? 'auto';
    const useStandIns = planes === 'stand-in' || (planes === 'auto' && !realPlanesBuilt());
    this.env = {
      ...process.env,
      TRELLIS_STATE_DIR: this.stateRoot,
      ...(useStandIns ? standInEnv() : {}),
      ...(o.env ?? {}),
    };
    this.paths = new MeshPaths(this.name, join(this.stateRoot, this.name));
  }

  /** `trellis up -d` in a fresh state dir; rejects with the CLI's output when the mesh does not become ready. */
  static async start(o: MeshHarnessOptions): Promise<MeshHarness> {
    const h = new MeshHarness(o);
    await h.up();
    return h;
  }

  /** A harness whose mesh is not started yet (to test `up` failures with tryUp()). */
  static create(o: MeshHarnessOptions): MeshHarness {
    return new MeshHarness(o);
  }

  /** (Re)starts the mesh with the same name and state dir; rejects with the CLI's output on failure. */
  async up(): Promise<CliResult> {
    const r = await this.tryUp();
    if (r.code !== 0) throw new Error(`trellis up failed (${r.code}):\n${r.stderr}${r.stdout}`);
    this.#status = await this.status();
    return r;
  }

  /** `trellis up -d` with this harness's options; resolves with the CLI's result whatever it is. */
  tryUp(): Promise<CliResult> {
    const o = this.#o;
    const args = [
      'up',
      ...o.manifests,
      '-d',
      '--name',
      this.name,
      '--mode',
      o.mode ?? 'auto',
      '--ingress-port',
      String(o.ingressPort ?? 0),
      '--timeout',
      String(o.readyTimeoutS ?? 120),
    ];
    if (o.podCidr) args.push('--pod-cidr', o.podCidr);
    if (o.serviceCidr) args.push('--service-cidr', o.serviceCidr);
    return this.cli(args);
  }

  /** Runs `trellis <args> --name <mesh>` against this mesh. */
  cli(args: string[], input?: string): Promise<CliResult> {
    const [cmd, ...rest] = args;
    const named = ['up', 'down', 'status', 'logs', 'exec', 'apply', 'get', 'delete'].includes(cmd ?? '');
    const sep = rest.indexOf('--');
    const withName = !named
      ? args
      : sep < 0
        ? [cmd!, ...rest, ...(rest.includes('--name') ? [] : ['--name', this.name])]
        : [
            cmd!,
            ...rest.slice(0, sep),
            ...(rest.includes('--name') ? [] : ['--name', this.name]),
            ...rest.slice(sep),
          ];
    return trellis(withName, { env: this.env, ...(input !== undefined ? { input } : {}) });
  }

  async status(): Promise<MeshStatus> {
    const r = await this.cli(['status', '-o', 'json']);
    if (r.code !== 0) throw new Error(`trellis status failed: ${r.stderr}`);
    this.#status = JSON.parse(r.stdout) as MeshStatus;
    return this.#status;
  }

  get ingressUrl(): string | undefined {
    return this.#status?.ingressUrl;
  }

  async pod(deployment: string): Promise<PodStatus> {
    const s = await this.status();
    const p = s.pods.find((x) => x.deployment === deployment);
    if (!p) throw new Error(`no pod of ${deployment}: ${s.pods.map((x) => x.name).join(', ')}`);
    return p;
  }

  /** `trellis exec <pod> -- <cmd...>` */
  exec(pod: string, cmd: string[], o: { container?: string } = {}): Promise<CliResult> {
    return this.cli(['exec', pod, ...(o.container ? ['-c', o.container] : []), '--', ...cmd]);
  }

  async logs(pod: string, container?: string): Promise<string> {
    const r = await this.cli(['logs', pod, ...(container ? ['-c', container] : [])]);
    if (r.code !== 0) throw new Error(`trellis logs failed: ${r.stderr}`);
    return r.stdout;
  }

  apply(files: string[], input?: string): Promise<CliResult> {
    return this.cli(['apply', ...files.flatMap((f) => ['-f', f])], input);
  }

  /** Polls the status until `pred` holds (pods come and go asynchronously in the daemon). */
  async waitFor(what: string, pred: (s: MeshStatus) => boolean, timeoutMs = 30_000): Promise<MeshStatus> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status();
      if (pred(s)) return s;
      if (Date.now() > until)
        throw new Error(
          `timed out waiting for ${what}; pods: ${JSON.stringify(s.pods.map((p) => ({ name: p.name, phase: p.phase, ready: p.ready, message: p.message })))}`,
        );
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  async down(): Promise<CliResult> {
    return this.cli(['down']);
  }

  /** What this mesh left on the machine: processes, namespaces, /etc/netns entries, bridge, iptables rules. */
  leftovers(): Promise<string[]> {
    return remainingResources(this.paths, { network: process.getuid?.() === 0 });
  }

  /** Stops the mesh and removes the temp state dir; safe to call twice. */
  async close(): Promise<void> {
    await this.down();
    rmSync(this.stateRoot, { recursive: true, force: true });
  }
}
