// The mesh daemon process (`trellis up`): runs a Mesh, serves the runtime API, reports progress, stops on signals.

import { fileURLToPath } from 'node:url';
import { errorMessage, TrellisError } from '../shared/errors.js';
import { createLogger, type LogLevel } from '../shared/log.js';
import { mountRuntimeRoutes } from './api-routes.js';
import { loadControlPlane } from './control-plane.js';
import { Mesh, type MeshProgress, type MeshStatus } from './mesh.js';
import type { RequestedMode } from './mode.js';
import { ProgressPrinter } from './progress.js';
import { MeshPaths, meshStateDir } from './state-dir.js';
import type { RestartBackoff } from './supervised-process.js';

/** The Trellis checkout this build belongs to (dist/src/runtime → the checkout). */
export const TRELLIS_HOME = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');

export interface DaemonOptions {
  name: string;
  manifests: string[];
  mode: RequestedMode;
  podCidr?: string;
  serviceCidr?: string;
  ingressPort?: number;
  /** How long `up -d` waits for every pod to be ready. */
  readyTimeoutMs: number;
  env: NodeJS.ProcessEnv;
  /** Runs once every pod is ready (foreground only); the function it returns runs before the mesh stops. */
  onReady?: (status: MeshStatus) => (() => void) | undefined;
}

/** Messages a detached daemon sends its parent (`up -d`) over the IPC channel. */
export type DaemonMessage =
  | { type: 'progress'; progress: MeshProgress }
  | { type: 'ready'; status: MeshStatus }
  | { type: 'failed'; error: string };

/** Test and development seams: another control plane module, another sidecar program, faster restarts. */
export function sidecarCommand(env: NodeJS.ProcessEnv): string[] {
  if (env.TRELLIS_SIDECAR_COMMAND) {
    const argv = JSON.parse(env.TRELLIS_SIDECAR_COMMAND) as unknown;
    if (!Array.isArray(argv) || argv.some((a) => typeof a !== 'string')) {
      throw new TrellisError('BAD_ENV', 'TRELLIS_SIDECAR_COMMAND must be a JSON array of strings');
    }
    return argv as string[];
  }
  return [process.execPath, `${TRELLIS_HOME}/bin/trellis.js`, 'proxy'];
}

function backoffFromEnv(env: NodeJS.ProcessEnv): RestartBackoff | undefined {
  const v = env.TRELLIS_RESTART_BACKOFF;
  if (!v) return undefined;
  const [base, max] = v.split(':').map(Number);
  if (!base || !max) throw new TrellisError('BAD_ENV', 'TRELLIS_RESTART_BACKOFF must be <baseMs>:<maxMs>');
  return { baseMs: base, maxMs: max, resetAfterMs: 60_000 };
}

function numberFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : Number(v);
}

export function readySummary(s: MeshStatus): string {
  const lines = [
    `mesh "${s.mesh}" is ready (${s.mode} mode, ${s.pods.length} pod${s.pods.length === 1 ? '' : 's'})`,
    ...(s.ingressUrl ? [`  ingress:   ${s.ingressUrl}/`] : []),
    `  API:       ${s.apiUrl}`,
    `  dashboard: ${s.dashboardUrl}`,
    `  state:     ${s.stateDir}`,
    `  next:      trellis status${s.mesh === 'default' ? '' : ` --name ${s.mesh}`}; trellis down${s.mesh === 'default' ? '' : ` --name ${s.mesh}`}`,
  ];
  return lines.join('\n');
}

/** Runs until SIGINT/SIGTERM or POST /shutdown; returns the process exit code. */
export async function runDaemon(o: DaemonOptions): Promise<number> {
  const ipc = typeof process.send === 'function';
  const tell = (m: DaemonMessage) => {
    if (ipc && process.connected) process.send!(m);
  };
  const printer = new ProgressPrinter(process.stderr);
  // In the foreground the progress printer tells the story; a detached daemon's log gets it from the logger.
  const level: LogLevel = ipc ? 'info' : 'warn';
  const logger = createLogger({
    component: 'mesh',
    level: (o.env.TRELLIS_LOG_LEVEL as LogLevel | undefined) ?? level,
  });
  const paths = new MeshPaths(o.name, meshStateDir(o.name, o.env));
  const backoff = backoffFromEnv(o.env);
  const endpointDrainMs = numberFromEnv(o.env, 'TRELLIS_ENDPOINT_DRAIN_MS');
  const drainTimeoutMs = numberFromEnv(o.env, 'TRELLIS_DRAIN_TIMEOUT_MS');
  const mesh = new Mesh({
    paths,
    manifests: o.manifests,
    mode: o.mode,
    ...(o.podCidr ? { podCidr: o.podCidr } : {}),
    ...(o.serviceCidr ? { serviceCidr: o.serviceCidr } : {}),
    ...(o.ingressPort !== undefined ? { ingressPort: o.ingressPort } : {}),
    startControlPlane: await loadControlPlane(o.env.TRELLIS_CONTROL_PLANE_MODULE || undefined),
    sidecarCommand: sidecarCommand(o.env),
    trellisHome: TRELLIS_HOME,
    ...(backoff ? { backoff } : {}),
    ...(endpointDrainMs !== undefined ? { endpointDrainMs } : {}),
    ...(drainTimeoutMs !== undefined ? { drainTimeoutMs } : {}),
    logger,
    onProgress: (p) => {
      if (!ipc) printer.print(p);
      tell({ type: 'progress', progress: p });
    },
  });

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let exitCode = 0;
  let stopping = false;
  let beforeStop: (() => void) | undefined;
  const shutdown = (why: string) => {
    if (stopping) {
      process.stderr.write(`still stopping (${why}); processes get SIGKILL after their grace period\n`);
      return;
    }
    stopping = true;
    printer.done();
    beforeStop?.();
    void mesh
      .stop()
      .catch((e) => {
        process.stderr.write(`trellis: stopping failed: ${errorMessage(e)}\n`);
        exitCode = 1;
      })
      .finally(() => resolveDone(exitCode));
  };
  const onSignal = (sig: NodeJS.Signals) => shutdown(sig);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  try {
    await mesh.start();
    mountRuntimeRoutes(mesh.controlPlane.api, { mesh, onShutdown: () => shutdown('trellis down') });
    await mesh.waitReady(ipc ? o.readyTimeoutMs : 2 ** 31 - 1);
    printer.done();
    if (!ipc) process.stderr.write(`${readySummary(mesh.status())}\n`);
    tell({ type: 'ready', status: mesh.status() });
    if (!stopping) beforeStop = o.onReady?.(mesh.status());
  } catch (e) {
    if (!stopping) {
      printer.done();
      const msg = errorMessage(e);
      process.stderr.write(`trellis: ${msg}\n`);
      tell({ type: 'failed', error: msg });
      exitCode = 1;
      shutdown('start failed');
    }
  }
  if (ipc && process.connected) process.disconnect();
  const code = await done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
  return code;
}
