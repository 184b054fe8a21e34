// `trellis down`: stops a mesh (apps, then sidecars, then the control plane) and removes what it created.

import type { Command } from 'commander';
import { MeshClient } from '../../runtime/client.js';
import { cleanupLeftovers, remainingResources } from '../../runtime/leftovers.js';
import { netnsUnavailable } from '../../runtime/mode.js';
import { isProcessAlive, MeshPaths, meshStateDir, runningDaemon } from '../../runtime/state-dir.js';
import { errorMessage } from '../../shared/errors.js';

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

export async function down(
  name: string,
  timeoutMs: number,
  out: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  const paths = new MeshPaths(name, meshStateDir(name));
  const pid = runningDaemon(paths);
  if (pid !== undefined) {
    out(`stopping mesh "${name}" (pid ${pid})\n`);
    try {
      await MeshClient.connect(name).shutdown();
    } catch (e) {
      out(`the daemon's API did not answer (${errorMessage(e)}); sending SIGTERM\n`);
      process.kill(pid, 'SIGTERM');
    }
    if (!(await waitGone(pid, timeoutMs))) {
      out(`mesh "${name}" did not stop within ${timeoutMs / 1000} s; killing it and cleaning up\n`);
      process.kill(pid, 'SIGKILL');
      await waitGone(pid, 5000);
    }
  }
  // After a clean stop this finds nothing; after a crash or a kill it removes processes, namespaces and rules.
  const network = (await netnsUnavailable()) === undefined;
  const removed = await cleanupLeftovers(paths, { network });
  if (removed.length > 0) out(`removed left-overs: ${removed.join(', ')}\n`);
  const remaining = await remainingResources(paths, { network });
  if (remaining.length > 0) {
    out(`mesh "${name}" left these behind and they could not be removed:\n  ${remaining.join('\n  ')}\n`);
    return 1;
  }
  const checked = network ? 'process, network namespace, bridge or iptables rule' : 'process';
  out(
    pid === undefined && removed.length === 0
      ? `mesh "${name}" is not running\n`
      : `mesh "${name}" stopped; no ${checked} of it is left\n`,
  );
  return 0;
}

export function registerDown(program: Command): void {
  program
    .command('down')
    .description(
      'stop a mesh: apps first, then sidecars drain, then the control plane; removes namespaces and rules',
    )
    .option('--name <name>', 'mesh name', 'default')
    .option('--timeout <seconds>', 'how long to wait before killing the daemon', '60')
    .action(async (opts: { name: string; timeout: string }) => {
      process.exitCode = await down(opts.name, Number(opts.timeout) * 1000);
    });
}
