// `trellis proxy --bootstrap FILE`: runs a sidecar (or gateway) proxy, as the runtime starts it.

import type { Command } from 'commander';
import type { LogLevel } from '../../shared/log.js';
import { runProxy } from '../../sidecar/main.js';
import { version } from '../version.js';

const LEVELS = ['debug', 'info', 'warn', 'error'];

export function registerProxy(program: Command): void {
  program
    .command('proxy')
    .description('Run the Trellis sidecar proxy: bootstrap from a file, everything else over xDS')
    .requiredOption(
      '--bootstrap <file>',
      'bootstrap JSON (node, xds, ca, admin, ports; docs/runtime-contract.md)',
    )
    .option('--log-level <level>', `log level: ${LEVELS.join(', ')} (default $TRELLIS_LOG_LEVEL or info)`)
    .action(async (opts: { bootstrap: string; logLevel?: string }) => {
      if (opts.logLevel && !LEVELS.includes(opts.logLevel)) {
        throw new Error(`--log-level must be one of ${LEVELS.join(', ')}, got "${opts.logLevel}"`);
      }
      const code = await runProxy({
        bootstrapPath: opts.bootstrap,
        version: version(),
        ...(opts.logLevel && { logLevel: opts.logLevel as LogLevel }),
      });
      // gRPC channels and timers may linger; the proxy's work is done.
      process.exit(code);
    });
}
