// `trellis controlplane`: runs the control plane alone, from a folder of config (ServiceEntry/WorkloadEntry give
// endpoints without Kubernetes).

import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { startControlPlane } from '../../controlplane/main.js';
import { createLogger } from '../../shared/log.js';

function port(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name}: "${text}" is not a port number`);
  return n;
}

export function registerControlPlane(program: Command): void {
  program
    .command('controlplane')
    .description(
      'Run the control plane standalone: xDS on --xds-port (and mTLS on --xds-tls-port), the HTTP API on --port',
    )
    .option(
      '--config <dir>',
      'a folder (or file) of Istio config; repeatable',
      (v: string, p: string[] | undefined) => [...(p ?? []), v],
    )
    .option('--state <dir>', 'state folder (CA, applied config)', join(homedir(), '.trellis', 'controlplane'))
    .option('--host <address>', 'address to listen on; repeatable', (v: string, p: string[] | undefined) => [
      ...(p ?? []),
      v,
    ])
    .option('--xds-port <port>', 'plaintext xDS port', '15010')
    .option('--xds-tls-port <port>', 'mTLS xDS and CA port', '15012')
    .option('--port <port>', 'HTTP API, debug and metrics port', '15014')
    .option('--prometheus <url>', 'read telemetry from this Prometheus instead of the embedded store')
    .option(
      '--prometheus-targets <file>',
      'file_sd targets file the control plane keeps current for that Prometheus',
    )
    .action(
      async (opts: {
        config?: string[];
        state: string;
        host?: string[];
        xdsPort: string;
        xdsTlsPort: string;
        port: string;
      }) => {
        const logger = createLogger({ component: 'controlplane' });
        const cp = await startControlPlane({
          stateDir: opts.state,
          configDirs: opts.config ?? [],
          listen: {
            hosts: opts.host ?? ['127.0.0.1'],
            xdsPort: port('--xds-port', opts.xdsPort),
            xdsTlsPort: port('--xds-tls-port', opts.xdsTlsPort),
            apiPort: port('--port', opts.port),
          },
          logger,
        });
        process.stdout.write(
          `control plane ready\n  xDS        ${cp.addresses.xds}\n  xDS (mTLS) ${cp.addresses.xdsTls}\n  API        http://${cp.addresses.api}\n`,
        );
        await new Promise<void>((resolve) => {
          const stop = () => {
            logger.info('stopping');
            cp.stop().then(resolve, resolve);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
    );
}
