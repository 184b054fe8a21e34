// `trellis up -d`: starts the daemon in the background and returns once every pod is ready, or fails with why.

import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { TrellisError } from '../shared/errors.js';
import { type DaemonMessage, readySummary, TRELLIS_HOME } from './daemon.js';
import type { MeshStatus } from './mesh.js';
import { ProgressPrinter } from './progress.js';
import { MeshPaths, meshStateDir, runningDaemon } from './state-dir.js';

function tail(path: string, bytes: number, from: number): string {
  try {
    const text = readFileSync(path, 'utf8').slice(from);
    return text.length > bytes ? `…${text.slice(-bytes)}` : text;
  } catch {
    return '';
  }
}

export interface DetachOptions {
  name: string;
  /** Arguments for `trellis up` in the child, without -d. */
  args: string[];
  env: NodeJS.ProcessEnv;
  out?: NodeJS.WriteStream;
}

/** Resolves with the ready status; rejects with the daemon's reason and the end of its log. */
export async function startDetached(o: DetachOptions): Promise<MeshStatus> {
  const paths = new MeshPaths(o.name, meshStateDir(o.name, o.env));
  const other = runningDaemon(paths);
  if (other !== undefined) {
    throw new TrellisError(
      'MESH_RUNNING',
      `mesh "${o.name}" is already running (pid ${other}, state in ${paths.root}); run \`trellis down${o.name === 'default' ? '' : ` --name ${o.name}`}\` first or pick another --name`,
    );
  }
  mkdirSync(paths.root, { recursive: true });
  const fd = openSync(paths.daemonLog, 'a');
  let logStart = 0;
  try {
    logStart = statSync(paths.daemonLog).size;
  } catch {
    logStart = 0;
  }
  const child = spawn(process.execPath, [`${TRELLIS_HOME}/bin/trellis.js`, 'up', ...o.args], {
    detached: true,
    stdio: ['ignore', fd, fd, 'ipc'],
    env: o.env,
  });
  closeSync(fd);
  const printer = new ProgressPrinter(o.out ?? process.stderr);
  return new Promise<MeshStatus>((resolve, reject) => {
    let failure: string | undefined;
    let settled = false;
    child.on('message', (m: DaemonMessage) => {
      if (m.type === 'progress') printer.print(m.progress);
      else if (m.type === 'ready') {
        settled = true;
        printer.done();
        child.disconnect();
        child.unref();
        (o.out ?? process.stderr).write(
          `${readySummary(m.status)}\n  daemon:    pid ${child.pid}, log ${paths.daemonLog}\n`,
        );
        resolve(m.status);
      } else if (m.type === 'failed') failure = m.error;
    });
    child.once('error', (e) => {
      settled = true;
      reject(new TrellisError('DAEMON_FAILED', `cannot start the mesh daemon: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      if (settled) return;
      printer.done();
      const log = tail(paths.daemonLog, 2000, logStart).trim();
      reject(
        new TrellisError(
          'DAEMON_FAILED',
          `${failure ?? `the mesh daemon exited (${code ?? signal}) before the mesh was ready`}${log ? `\n--- ${paths.daemonLog} ---\n${log}` : ''}`,
        ),
      );
    });
  });
}
