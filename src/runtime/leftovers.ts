// Finds and removes what a crashed mesh daemon left: its processes, namespaces, bridge, rules and folders.

import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { run } from './network/exec.js';
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

/**
 * What of a mesh is still on the machine, checked one by one: tagged processes, and with `network` its
 * namespaces, /etc/netns folders, bridge and iptables rules. Removes nothing.
 */
export async function remainingResources(paths: MeshPaths, opts: { network: boolean }): Promise<string[]> {
  const out = taggedProcesses(paths.processTag).map((p) => `process ${p}`);
  if (!opts.network) return out;
  const prefix = `trellis.${paths.name}.`;
  const netns = await run('ip', ['netns', 'list'], { allowFail: true });
  out.push(
    ...netns
      .split('\n')
      .filter((l) => l.startsWith(prefix))
      .map((l) => `netns ${l.split(' ')[0]}`),
  );
  if (existsSync('/etc/netns')) {
    out.push(
      ...readdirSync('/etc/netns')
        .filter((d) => d.startsWith(prefix))
        .map((d) => `/etc/netns/${d}`),
    );
  }
  const bridge = bridgeName(paths.name);
  const links = await run('ip', ['-o', 'link', 'show'], { allowFail: true });
  if (new RegExp(`: ${bridge}[:@]`).test(links)) out.push(`bridge ${bridge}`);
  const rules = await run('iptables-save', [], { allowFail: true });
  out.push(
    ...rules
      .split('\n')
      .filter((l) => l.includes(bridge))
      .map((l) => `iptables ${l}`),
  );
  return out;
}
