// `trellis ratelimit`: runs the global rate limit service (Envoy's RLS API, envoyproxy/ratelimit config).

import type { Command } from 'commander';
import { runRateLimitService } from '../../ratelimit/run.js';
import { errorMessage } from '../../shared/errors.js';
import { createLogger } from '../../shared/log.js';

export function registerRatelimit(program: Command): void {
  program
    .command('ratelimit')
    .description(
      "Run the global rate limit service: Envoy's RLS gRPC API with envoyproxy/ratelimit's YAML config format",
    )
    .requiredOption(
      '--config <path>',
      'a YAML config file, or a directory of them (repeatable)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option(
      '--redis <url>',
      'keep counters in Redis, shared by replicas (e.g. redis://127.0.0.1:6379); default: in memory',
    )
    .option('--port <port>', 'gRPC port', '8081')
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('--key-prefix <prefix>', 'prefix of every counter key in Redis', '')
    .option('--no-response-headers', 'do not add x-ratelimit-limit/remaining/reset to answers')
    .addHelpText('after', '\nSIGHUP reloads the config files; SIGINT or SIGTERM stops the service.')
    .action(
      async (opts: {
        config: string[];
        redis?: string;
        port: string;
        host: string;
        keyPrefix: string;
        responseHeaders: boolean;
      }) => {
        const logger = createLogger({ component: 'ratelimit' });
        const port = Number(opts.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new Error(`--port: "${opts.port}" is not a port number`);
        const service = await runRateLimitService({
          configPaths: opts.config,
          host: opts.host,
          port,
          keyPrefix: opts.keyPrefix,
          responseHeaders: opts.responseHeaders,
          logger,
          ...(opts.redis ? { redisUrl: opts.redis } : {}),
        });
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGHUP', reload);
            service.close().then(resolve, resolve);
          };
          const reload = () => {
            try {
              service.reload();
            } catch (e) {
              logger.error('config reload failed; keeping the running config', { error: errorMessage(e) });
            }
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          process.on('SIGHUP', reload);
        });
      },
    );
}
