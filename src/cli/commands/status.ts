// `trellis status`: the mesh's addresses and every pod (labels, IP, readiness, restarts, sidecar addresses).

import type { Command } from 'commander';
import { statusText } from '../../runtime/cli-format.js';
import { MeshClient } from '../../runtime/client.js';
import { TrellisError } from '../../shared/errors.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show a running mesh: control plane, ingress and API addresses, and every pod')
    .option('--name <name>', 'mesh name', 'default')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (opts: { name: string; output: string }) => {
      if (opts.output !== 'text' && opts.output !== 'json')
        throw new TrellisError('BAD_OUTPUT', `-o must be text or json, not "${opts.output}"`);
      const status = await MeshClient.connect(opts.name).status();
      process.stdout.write(
        opts.output === 'json' ? `${JSON.stringify(status, null, 2)}\n` : statusText(status),
      );
    });
}
