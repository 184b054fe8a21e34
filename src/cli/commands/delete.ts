// `trellis delete`: removes resources named in files (-f) or on the command line (KIND NAME).

import type { Command } from 'commander';
import type { ResourceRef } from '../../api/types/meta.js';
import { formatChangeMessage, loadFileArgs, refName } from '../../runtime/cli-format.js';
import { MeshClient } from '../../runtime/client.js';
import { resolveKind } from '../../runtime/kinds.js';
import { formatManifestMessage, hasManifestErrors } from '../../runtime/manifests.js';
import { runtimeRef } from '../../runtime/runtime-store.js';
import { TrellisError } from '../../shared/errors.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerDelete(program: Command): void {
  program
    .command('delete')
    .argument('[kind]', 'a kind (as in kubectl: deploy, svc, vs, dr, ...) when not using -f')
    .argument('[names...]', 'names of that kind')
    .description('delete resources from a running mesh (all or nothing)')
    .option('-f, --filename <path>', 'a file, a folder, or - for stdin (repeatable)', collect)
    .option('-n, --namespace <ns>', 'namespace of the named resources', 'default')
    .option('--name <name>', 'mesh name', 'default')
    .action(
      async (
        kind: string | undefined,
        names: string[],
        opts: { filename?: string[]; namespace: string; name: string },
      ) => {
        let refs: ResourceRef[];
        if (opts.filename?.length) {
          const load = loadFileArgs(opts.filename);
          if (hasManifestErrors(load.messages)) {
            for (const m of load.messages) process.stderr.write(`${formatManifestMessage(m)}\n`);
            process.exitCode = 1;
            return;
          }
          refs = load.manifests.map((m) => runtimeRef(m.resource));
        } else {
          if (!kind || names.length === 0)
            throw new TrellisError(
              'USAGE',
              'name the resources: trellis delete -f FILE, or trellis delete KIND NAME...',
            );
          const info = resolveKind(kind);
          refs = names.map((n) => ({
            kind: info.kind,
            namespace: info.namespaced ? opts.namespace : '',
            name: n,
          }));
        }
        const out = await MeshClient.connect(opts.name).delete(refs);
        for (const m of out.messages) process.stderr.write(`${formatChangeMessage(m)}\n`);
        if (!out.ok) {
          process.stderr.write('nothing was deleted\n');
          process.exitCode = 1;
          return;
        }
        for (const c of out.changes) process.stdout.write(`${refName(c.ref)} deleted\n`);
      },
    );
}
