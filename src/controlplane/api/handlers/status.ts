// /api/v1/status: the mesh (runtime), the control plane, and counts for the dashboard's header.

import type { HandlerDeps } from '../deps.js';
import type { Router } from '../router.js';
import type { StatusResponse } from '../types.js';
import { configCounts } from './config.js';
import { proxyCounts } from './proxies.js';

export function registerStatusRoutes(router: Router, deps: HandlerDeps): void {
  router.get('/api/v1/status', (): StatusResponse => {
    const { traces, store, scraper } = deps.telemetry;
    const telemetry: StatusResponse['telemetry'] = { traces: traces.traceCount, spans: traces.spanCount };
    if (store) telemetry.series = store.stats().series;
    if (scraper) {
      const targets = scraper.targets();
      telemetry.scrapeTargets = { total: targets.length, up: targets.filter((t) => t.up).length };
    }
    const out: StatusResponse = {
      controlPlane: { version: deps.version, startedAt: deps.startedAt, now: deps.clock.now() },
      config: configCounts(deps.config.list()),
      proxies: proxyCounts(deps.proxies.list()),
      telemetry,
    };
    if (deps.runtime) out.mesh = deps.runtime.status();
    return out;
  });
}
