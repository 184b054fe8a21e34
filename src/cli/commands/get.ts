// `trellis get KIND [NAME]`: lists resources of a running mesh as a table, YAML or JSON (kinds as kubectl names them).

import type { Command } from 'commander';
import type { Resource } from '../../api/types/meta.js';
import { podsTable, resourcesJson, resourcesTable, resourcesYaml } from '../../runtime/cli-format.js';
import { MeshClient } from '../../runtime/client.js';
import { resolveKind } from '../../runtime/kinds.js';
import type { PodStatus } from '../../runtime/pod.js';
import { TrellisError } from '../../shared/errors.js';

export function registerGet(program: Command): void {
  program
    .command('get')
    .argument('<kind>', 'kind, plural or short name: pods, deploy, svc, vs, dr, gw, pa, ap, ...')
    .argument('[name]', 'one resource')
    .description('list resources of a running mesh')
    .option('-n, --namespace <ns>', 'only this namespace (default: all)')
    .option('-o, --output <format>', 'table, yaml or json', 'table')
    .option('--name <name>', 'mesh name', 'default')
    .action(
      async (
        kind: string,
        name: string | undefined,
        opts: { namespace?: string; output: string; name: string },
      ) => {
        if (!['table', 'yaml', 'json', 'wide'].includes(opts.output))
          throw new TrellisError('BAD_OUTPUT', `-o must be table, wide, yaml or json, not "${opts.output}"`);
        const info = resolveKind(kind);
        const client = MeshClient.connect(opts.name);
        const items = await client.list(info.kind, {
          ...(name ? { name } : {}),
          ...(opts.namespace ? { namespace: opts.namespace } : {}),
        });
        if (name && items.length === 0) {
          throw new TrellisError(
            'NOT_FOUND',
            `${info.kind} "${name}" not found${opts.namespace ? ` in namespace ${opts.namespace}` : ''}`,
          );
        }
        if (opts.output === 'json') {
          process.stdout.write(resourcesJson(items, name !== undefined));
          return;
        }
        if (opts.output === 'yaml') {
          process.stdout.write(resourcesYaml(items));
          return;
        }
        if (info.kind === 'Pod') {
          process.stdout.write(
            items.length
              ? podsTable(items as unknown as PodStatus[], opts.output === 'wide')
              : 'No resources found\n',
          );
          return;
        }
        const pods = info.kind === 'Deployment' ? ((await client.list('Pod')) as unknown as PodStatus[]) : [];
        process.stdout.write(
          items.length ? resourcesTable(info.kind, items as Resource[], pods) : 'No resources found\n',
        );
      },
    );
}
