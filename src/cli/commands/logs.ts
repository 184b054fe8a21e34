// `trellis logs POD`: a container's log (the app by default, `-c proxy` for the sidecar), optionally followed.

import type { Command } from 'commander';
import { MeshClient } from '../../runtime/client.js';

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .argument('<pod>', 'pod name, or deploy/<name> for a pod of that Deployment')
    .description('print a container log of a pod')
    .option('--name <name>', 'mesh name', 'default')
    .option(
      '-c, --container <container>',
      'app (the first app container), proxy (the sidecar) or a container name',
    )
    .option('-n, --namespace <ns>', 'namespace of the pod')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('--tail <lines>', 'only the last lines')
    .action(
      async (
        pod: string,
        opts: { name: string; container?: string; namespace?: string; follow?: boolean; tail?: string },
      ) => {
        await MeshClient.connect(opts.name).logs(pod, process.stdout, {
          ...(opts.container ? { container: opts.container } : {}),
          ...(opts.namespace ? { namespace: opts.namespace } : {}),
          ...(opts.follow ? { follow: true } : {}),
          ...(opts.tail ? { tail: Number(opts.tail) } : {}),
        });
      },
    );
}
