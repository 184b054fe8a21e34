// Starts a sample app's HTTP server where the runtime wants it: BIND_ADDRESS (host mode) or 0.0.0.0 (its own netns).

import http, { type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withAccessLog } from './access-log.js';

export interface ServeOptions {
  /** App name for the startup line, e.g. `productpage`. */
  name: string;
  handler: RequestListener;
  port: number;
  /** Defaults to bindAddress(process.env). */
  host?: string;
  /** Print an access line per request (on by default). */
  accessLog?: boolean;
}

export interface RunningServer {
  server: http.Server;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** In host mode the runtime gives each pod its own address; in a pod network namespace every address is ours. */
export function bindAddress(env: NodeJS.ProcessEnv = process.env): string {
  return env.BIND_ADDRESS && env.BIND_ADDRESS.trim() !== '' ? env.BIND_ADDRESS.trim() : '0.0.0.0';
}

/** The port from the first positional argument (`productpage.py 9080` style), else $PORT, else the default. */
export function portFromArgs(argv: readonly string[], env: NodeJS.ProcessEnv, fallback: number): number {
  const positional = argv.find((a) => /^\d+$/.test(a));
  const raw = positional ?? env.PORT;
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid port "${raw}": expected an integer from 0 to 65535`);
  }
  return port;
}

/** Listens and prints `<name> listening on <host>:<port>`, the line tests and humans wait for. */
export async function serveHttp(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? bindAddress();
  const handler = opts.accessLog === false ? opts.handler : withAccessLog(opts.handler);
  const server = http.createServer(handler);
  // Sidecars keep upstream connections pooled; outlive their idle timers so a reused connection is rarely stale.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  process.stdout.write(`${opts.name} listening on ${host}:${port}\n`);
  return {
    server,
    host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Logs a startup failure and exits non-zero, so the runtime shows the cause and restarts the container. */
export function exitOnStartupError(name: string): (e: unknown) => never {
  return (e: unknown) => {
    process.stderr.write(`${name}: failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  };
}
