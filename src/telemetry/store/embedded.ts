// The embedded telemetry store the control plane hosts: store, scraper, process sampler, traces and queries.

import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import { LocalMetricsSource } from './local-source.js';
import { ProcessSampler } from './proc.js';
import { TelemetryQueries } from './queries.js';
import { Scraper } from './scraper.js';
import { TraceStore, type TraceStoreOptions } from './traces.js';
import { TimeSeriesStore } from './tsdb.js';

export interface EmbeddedTelemetryOptions {
  /** Default 5 s. */
  scrapeIntervalMs?: number;
  /** Default 1 h. */
  retentionMs?: number;
  maxSeries?: number;
  traces?: TraceStoreOptions;
  clock?: Clock;
  logger?: Logger;
}

export interface EmbeddedTelemetry {
  store: TimeSeriesStore;
  scraper: Scraper;
  processes: ProcessSampler;
  traces: TraceStore;
  queries: TelemetryQueries;
  start(): void;
  stop(): void;
}

/** Wires the pieces together; call start() to begin scraping and sampling. */
export function createEmbeddedTelemetry(opts: EmbeddedTelemetryOptions = {}): EmbeddedTelemetry {
  const intervalMs = opts.scrapeIntervalMs ?? 5000;
  const store = new TimeSeriesStore({
    retentionMs: opts.retentionMs ?? 3_600_000,
    resolutionMs: intervalMs,
    ...(opts.maxSeries === undefined ? {} : { maxSeries: opts.maxSeries }),
  });
  const clock = opts.clock ? { clock: opts.clock } : {};
  const scraper = new Scraper({
    store,
    intervalMs,
    ...clock,
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  const processes = new ProcessSampler({ store, intervalMs, ...clock });
  const traces = new TraceStore({ ...opts.traces, ...clock });
  const queries = new TelemetryQueries(new LocalMetricsSource(store));
  return {
    store,
    scraper,
    processes,
    traces,
    queries,
    start() {
      scraper.start();
      processes.start();
    },
    stop() {
      scraper.stop();
      processes.stop();
    },
  };
}
