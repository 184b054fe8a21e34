// `trellis exec POD -- CMD`: runs a command where the pod runs (its namespace, its env, its HTTP_PROXY).

import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { MeshClient } from '../../runtime/client.js';
import { TrellisError } from '../../shared/errors.js';

export function registerExec(program: Command): void {
  program
    .command('exec')
    .argument('<pod>', 'pod name, or deploy/<name> for a ready pod of that Deployment')
    .argument('<command...>', 'the command and its arguments (after --)')
    .description("run a command in a pod's network namespace with its environment")
    .option('--name <name>', 'mesh name', 'default')
    .option(
      '-c, --container <container>',
      'container whose env and working directory to use (default: the first)',
    )
    .option('-n, --namespace <ns>', 'namespace of the pod')
    .action(
      async (
        pod: string,
        command: string[],
        opts: { name: string; container?: string; namespace?: string },
      ) => {
        const spec = await MeshClient.connect(opts.name).execSpec(pod, {
          ...(opts.container ? { container: opts.container } : {}),
          ...(opts.namespace ? { namespace: opts.namespace } : {}),
        });
        const argv = [...spec.execPrefix, ...command];
        process.exitCode = await new Promise<number>((resolve, reject) => {
          const child = spawn(argv[0]!, argv.slice(1), { env: spec.env, cwd: spec.cwd, stdio: 'inherit' });
          child.once('error', (e) =>
            reject(
              new TrellisError(
                'EXEC_FAILED',
                `cannot run ${command[0]} in ${spec.namespace}/${spec.pod}: ${e.message}`,
              ),
            ),
          );
          child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
        });
      },
    );
}
