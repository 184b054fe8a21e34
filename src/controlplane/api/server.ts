// createApiServer: the control plane's HTTP API and dashboard on one node:http handler (port 15014).

import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../shared/clock.js';
import type { ApiDeps, HandlerDeps } from './deps.js';
import { EventHub, SseStreams } from './events.js';
import { sameOriginWrites } from './guard.js';
import { registerConfigRoutes } from './handlers/config.js';
import { registerGraphRoutes } from './handlers/graph.js';
import { registerProxyRoutes } from './handlers/proxies.js';
import { registerStatusRoutes } from './handlers/status.js';
import { registerTelemetryRoutes } from './handlers/telemetry.js';
import { registerTraceRoutes } from './handlers/traces.js';
import { Router } from './router.js';
import { staticFiles } from './static.js';
import type { EventTopic } from './types.js';
import { ChangeWatcher } from './watch.js';

export interface ApiServer {
  /** Add routes here (e.g. `/debug/syncz`, `/metrics`); they share the 404/405/error handling. */
  router: Router;
  /** The node:http request listener, for mounting on a server created elsewhere. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  events: EventHub;
  /** Tells connected dashboards something changed now (e.g. after a scrape). */
  notify(topic: EventTopic): void;
  /** Starts a server of its own; port 0 picks a free port. */
  listen(port: number, host?: string): Promise<{ server: Server; port: number; host: string; url: string }>;
  /** Ends event streams, stops change polling and closes the server started by listen(). */
  close(): Promise<void>;
}

/** dist/dashboard, next to this file's compiled location (dist/src/controlplane/api/). */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../../../dashboard/', import.meta.url));

function packageVersion(): string {
  try {
    const url = new URL('../../../../package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function createApiServer(deps: ApiDeps): ApiServer {
  const clock = deps.clock ?? systemClock;
  const router = deps.router ?? new Router(deps.logger ? { logger: deps.logger } : {});
  const hub = new EventHub({ clock });
  const watcher = new ChangeWatcher({
    hub,
    config: deps.config,
    proxies: deps.proxies,
    telemetry: deps.telemetry,
    clock,
    ...(deps.runtime ? { runtime: deps.runtime } : {}),
    ...(deps.pollMs === undefined ? {} : { pollMs: deps.pollMs }),
    ...(deps.telemetryTickMs === undefined ? {} : { telemetryTickMs: deps.telemetryTickMs }),
  });
  const streams = new SseStreams({
    hub,
    clock,
    ...(deps.heartbeatMs === undefined ? {} : { heartbeatMs: deps.heartbeatMs }),
    onActive: (active) => (active ? watcher.start() : watcher.stop()),
  });
  const handlerDeps: HandlerDeps = {
    config: deps.config,
    proxies: deps.proxies,
    runtime: deps.runtime,
    telemetry: deps.telemetry,
    clock,
    hub,
    maxBodyBytes: deps.maxBodyBytes ?? 4 * 1024 * 1024,
    rootNamespace: deps.rootNamespace ?? 'istio-system',
    version: deps.version ?? packageVersion(),
    startedAt: clock.now(),
  };

  router.before(sameOriginWrites(deps.allowedHosts));
  registerStatusRoutes(router, handlerDeps);
  registerConfigRoutes(router, handlerDeps);
  registerProxyRoutes(router, handlerDeps);
  registerTelemetryRoutes(router, handlerDeps);
  registerGraphRoutes(router, handlerDeps);
  registerTraceRoutes(router, handlerDeps);
  router.raw('GET', '/api/v1/events', streams.handler);
  if (deps.assetsDir !== false) router.mount('/', staticFiles({ dir: deps.assetsDir ?? DEFAULT_ASSETS_DIR }));

  let server: Server | undefined;
  return {
    router,
    handler: router.handler,
    events: hub,
    notify: (topic) => hub.publish(topic),
    async listen(port, host = '127.0.0.1') {
      const s = createServer(router.handler);
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      const addr = s.address() as AddressInfo;
      const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      return { server: s, port: addr.port, host: addr.address, url: `http://${shown}:${addr.port}` };
    },
    async close() {
      streams.closeAll();
      watcher.stop();
      const s = server;
      server = undefined;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeIdleConnections();
      });
    },
  };
}
