// What createApiServer takes, and the resolved form (defaults filled in) every handler module receives.

import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { EventHub } from './events.js';
import type { Router } from './router.js';
import type { ConfigView, ProxyView, RuntimeView, TelemetryView } from './views.js';

export interface ApiDeps {
  config: ConfigView;
  proxies: ProxyView;
  /** The local runtime; absent on Kubernetes. */
  runtime?: RuntimeView;
  telemetry: TelemetryView;
  /** Register into this router (shared with /debug/* and /metrics); a new one otherwise. */
  router?: Router;
  clock?: Clock;
  logger?: Logger;
  /** The built dashboard (index.html + assets/). Default: dist/dashboard of this build. `false`: no UI. */
  assetsDir?: string | false;
  /** Reported by /api/v1/status. Default: package.json's version. */
  version?: string;
  /** Largest config apply/delete body. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Istio's root namespace (mesh-wide policies). Default `istio-system`. */
  rootNamespace?: string;
  /** Host names (besides IP literals and localhost) a browser may use to change config. */
  allowedHosts?: string[];
  /** Change polling for views without subscribe(). Default 2 s. */
  pollMs?: number;
  /** Telemetry change check; set it to the scrape interval. Default 5 s. */
  telemetryTickMs?: number;
  /** SSE keep-alive comment interval. Default 15 s. */
  heartbeatMs?: number;
}

export interface HandlerDeps {
  config: ConfigView;
  proxies: ProxyView;
  runtime: RuntimeView | undefined;
  telemetry: TelemetryView;
  clock: Clock;
  hub: EventHub;
  maxBodyBytes: number;
  rootNamespace: string;
  version: string;
  startedAt: number;
}
