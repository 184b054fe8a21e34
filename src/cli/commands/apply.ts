// `trellis apply -f`: sends manifests to a running mesh; an invalid batch is refused whole with its errors.

import type { Command } from 'commander';
import { formatChangeMessage, loadFileArgs, refName } from '../../runtime/cli-format.js';
import { MeshClient } from '../../runtime/client.js';
import { formatManifestMessage, hasManifestErrors } from '../../runtime/manifests.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export async function applyFiles(name: string, files: string[]): Promise<number> {
  const load = loadFileArgs(files);
  if (hasManifestErrors(load.messages)) {
    for (const m of load.messages) process.stderr.write(`${formatManifestMessage(m)}\n`);
    process.stderr.write('nothing was applied\n');
    return 1;
  }
  const out = await MeshClient.connect(name).apply(load.manifests);
  for (const m of out.messages) process.stderr.write(`${formatChangeMessage(m)}\n`);
  if (!out.ok) {
    process.stderr.write('nothing was applied\n');
    return 1;
  }
  for (const c of out.changes) process.stdout.write(`${refName(c.ref)} ${c.action}\n`);
  return 0;
}

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('apply Kubernetes and Istio manifests to a running mesh (all or nothing)')
    .requiredOption('-f, --filename <path>', 'a file, a folder, or - for stdin (repeatable)', collect)
    .option('--name <name>', 'mesh name', 'default')
    .action(async (opts: { filename: string[]; name: string }) => {
      process.exitCode = await applyFiles(opts.name, opts.filename);
    });
}
