// `trellis proxy`: loads the bootstrap, starts the sidecar, and ties it to the process (signals, exit codes).

import { errorMessage } from '../shared/errors.js';
import { createLogger, type LogLevel } from '../shared/log.js';
import { loadBootstrap } from './runtime/bootstrap.js';
import type { HttpConnectionManagerFactory } from './runtime/contracts.js';
import { Sidecar } from './runtime/sidecar.js';

export interface RunProxyOptions {
  bootstrapPath: string;
  logLevel?: LogLevel;
  version?: string;
  hcmFactory?: HttpConnectionManagerFactory;
}

/**
 * Runs until the proxy is told to end, then resolves with the exit code: SIGTERM (or SIGINT) drains —
 * stop accepting, finish in-flight requests and TCP connections up to drainTimeoutMs — and exits 0;
 * `/quitquitquit` exits 0 at once (cleanly: logs flushed, sockets closed). An invalid bootstrap rejects.
 */
export async function runProxy(opts: RunProxyOptions): Promise<number> {
  const bootstrap = await loadBootstrap(opts.bootstrapPath);
  const logger = createLogger({ component: 'proxy', level: 'debug' });
  let finish!: (code: number) => void;
  const exited = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const sidecar = await Sidecar.start({
    bootstrap,
    logger,
    ...(opts.logLevel && { logLevel: opts.logLevel }),
    ...(opts.version && { version: opts.version }),
    ...(opts.hcmFactory && { hcmFactory: opts.hcmFactory }),
    onExit: (code) => finish(code),
  });
  sidecar.logger.info('proxy started', {
    node: bootstrap.node.id,
    admin: sidecar.adminUrl,
    xds: bootstrap.xds.address,
  });
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      sidecar.logger.warn('second signal: exiting now', { signal });
      finish(1);
      return;
    }
    signalled = true;
    sidecar.logger.info('signal received: draining', { signal });
    sidecar
      .drain()
      .then(() => sidecar.stop())
      .then(
        () => finish(0),
        (e) => {
          sidecar.logger.error('shutdown failed', { error: errorMessage(e) });
          finish(1);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const code = await exited;
  process.removeListener('SIGTERM', onSignal);
  process.removeListener('SIGINT', onSignal);
  return code;
}
