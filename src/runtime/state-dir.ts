// The state folder of one mesh: pid, status.json, per-pod logs, tokens and bootstrap files, control plane state.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { TrellisError } from '../shared/errors.js';

const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

export function checkMeshName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new TrellisError(
      'BAD_MESH_NAME',
      `mesh name "${name}" must be 1-32 lower-case letters, digits or '-', not starting or ending with '-'`,
    );
  }
}

/** `$TRELLIS_STATE_DIR/<name>` or `~/.trellis/meshes/<name>`. */
export function meshStateDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  checkMeshName(name);
  const root = env.TRELLIS_STATE_DIR ? resolve(env.TRELLIS_STATE_DIR) : join(homedir(), '.trellis', 'meshes');
  return join(root, name);
}

/** Writes through a temporary file and a rename, so readers never see half a file. */
export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, path);
}

export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** True when `path` can be reached by a user other than its owner (every ancestor world-searchable). */
export function reachableByOthers(path: string): boolean {
  let p = resolve(path);
  for (;;) {
    try {
      if ((statSync(p).mode & 0o001) === 0) return false;
    } catch {
      // Not created yet: its creator decides; look at the parent.
    }
    const parent = dirname(p);
    if (parent === p) return true;
    p = parent;
  }
}

export class MeshPaths {
  readonly name: string;
  readonly root: string;

  constructor(name: string, root: string) {
    this.name = name;
    this.root = root;
  }

  get pidFile(): string {
    return join(this.root, 'daemon.pid');
  }
  get statusFile(): string {
    return join(this.root, 'status.json');
  }
  get daemonLog(): string {
    return join(this.root, 'daemon.log');
  }
  get controlPlaneDir(): string {
    return join(this.root, 'controlplane');
  }
  get resourcesFile(): string {
    return join(this.root, 'runtime', 'resources.json');
  }
  get caRootFile(): string {
    return join(this.root, 'root-cert.pem');
  }
  /** Pids and namespaces the daemon created, for cleaning up after a crash. */
  get leftoversFile(): string {
    return join(this.root, 'runtime', 'leftovers.json');
  }
  podDir(podKey: string): string {
    return join(this.root, 'pods', podKey);
  }
  logFile(podKey: string, container: string): string {
    return join(this.podDir(podKey), 'logs', `${container}.log`);
  }
  /** A tag put in every process the daemon starts, so a crashed daemon's processes can be found and stopped. */
  get processTag(): string {
    return createHash('sha1').update(this.root).digest('hex').slice(0, 16);
  }
}

/**
 * Where the sidecar's token, bootstrap and admin socket live: the pod folder when uid 1337 can reach it, else a
 * folder under /run (root's home is 0700, and the sidecar runs as uid 1337 in netns mode).
 */
export function proxyFilesRoot(paths: MeshPaths, needsOtherUser: boolean): string {
  if (!needsOtherUser || reachableByOthers(paths.root)) return join(paths.root, 'pods');
  return join('/run/trellis', `${paths.name}-${paths.processTag.slice(0, 8)}`);
}

/** True for a running process; a zombie (exited, not yet reaped by its new parent) counts as gone. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

export function readPid(paths: MeshPaths): number | undefined {
  try {
    const pid = Number(readFileSync(paths.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The daemon's pid when it runs; undefined when there is none (a stale pid file is not a running mesh). */
export function runningDaemon(paths: MeshPaths): number | undefined {
  const pid = readPid(paths);
  return pid !== undefined && isProcessAlive(pid) ? pid : undefined;
}

/** Claims the mesh name for this process; refuses when another daemon holds it. */
export function claimMesh(paths: MeshPaths): { stale: boolean } {
  mkdirSync(paths.root, { recursive: true, mode: 0o755 });
  const other = runningDaemon(paths);
  if (other !== undefined && other !== process.pid) {
    throw new TrellisError(
      'MESH_RUNNING',
      `mesh "${paths.name}" is already running (pid ${other}, state in ${paths.root}); run \`trellis down --name ${paths.name}\` first or pick another --name`,
    );
  }
  const stale = existsSync(paths.pidFile);
  writeFileAtomic(paths.pidFile, `${process.pid}\n`);
  return { stale };
}

export function releaseMesh(paths: MeshPaths): void {
  if (readPid(paths) === process.pid) rmSync(paths.pidFile, { force: true });
}

export function isInside(child: string, parent: string): boolean {
  const c = resolve(child);
  const p = resolve(parent);
  return c === p || c.startsWith(p + sep);
}
