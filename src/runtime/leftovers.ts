// Finds and removes what a crashed mesh daemon left: its processes, namespaces, bridge, rules and folders.

import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { bridgeName, cleanupMeshNetwork } from './network/netns.js';
import { removeForwardRules } from './networking.js';
import { isProcessAlive, type MeshPaths, proxyFilesRoot, readPid } from './state-dir.js';

/** Pids whose environment carries `TRELLIS_PROCESS_TAG=<tag>` (every process a daemon starts has it). */
export function taggedProcesses(tag: string): number[] {
  const needle = Buffer.from(`TRELLIS_PROCESS_TAG=${tag}\0`);
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`).includes(needle)) out.push(Number(e));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return out;
}

/** SIGKILLs every tagged process; returns the pids. */
export function killTaggedProcesses(tag: string): number[] {
  const pids = taggedProcesses(tag);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return pids;
}

/** Call only when no daemon of this mesh runs. */
export async function cleanupLeftovers(paths: MeshPaths, opts: { network: boolean }): Promise<string[]> {
  const removed = killTaggedProcesses(paths.processTag).map((pid) => `process ${pid}`);
  if (opts.network) {
    removed.push(...(await removeForwardRules(bridgeName(paths.name))));
    removed.push(...(await cleanupMeshNetwork(paths.name)));
  }
  const proxyRoot = proxyFilesRoot(paths, true);
  if (proxyRoot.startsWith('/run/trellis/')) {
    rmSync(proxyRoot, { recursive: true, force: true });
  }
  rmSync(paths.statusFile, { force: true });
  const pid = readPid(paths);
  if (pid !== undefined && pid !== process.pid && !isProcessAlive(pid))
    rmSync(paths.pidFile, { force: true });
  return removed;
}
