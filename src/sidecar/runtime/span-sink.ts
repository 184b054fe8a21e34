// Where finished spans go: a batch exporter per collector endpoint, the endpoint chosen by the cluster manager.

import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { SpanEncoder } from '../../telemetry/trace/encode.js';
import { BatchSpanExporter } from '../../telemetry/trace/exporter.js';
import type { FinishedSpan } from '../../telemetry/trace/span.js';
import type { SpanSink } from '../../telemetry/trace/tracer.js';
import type { Host } from '../upstream/lb/host.js';

/** What the sink needs from the cluster manager: a host of the collector cluster, picked by its balancer. */
export interface CollectorHosts {
  pickHost(cluster: string): Host | undefined;
}

export interface ClusterSpanSinkOptions {
  cluster: string;
  encoder: SpanEncoder;
  hosts: CollectorHosts;
  clock: Clock;
  logger: Logger;
  timeoutMs?: number;
}

/**
 * `export()` never blocks or throws: it picks a collector host (load balanced, ejected hosts skipped) and
 * queues the span on that host's BatchSpanExporter, which posts batches off the request path. A span with no
 * collector to go to is counted as dropped. Idle exporters are trimmed once eight hosts have been used.
 */
export class ClusterSpanSink implements SpanSink {
  readonly #opts: ClusterSpanSinkOptions;
  readonly #exporters = new Map<string, BatchSpanExporter>();
  dropped = 0;

  constructor(opts: ClusterSpanSinkOptions) {
    this.#opts = opts;
  }

  export(span: FinishedSpan): boolean {
    const host = this.#opts.hosts.pickHost(this.#opts.cluster);
    if (!host) {
      this.dropped++;
      return false;
    }
    let exporter = this.#exporters.get(host.key);
    if (!exporter) {
      exporter = new BatchSpanExporter({
        endpoint: `http://${host.key}`,
        encoder: this.#opts.encoder,
        clock: this.#opts.clock,
        logger: this.#opts.logger,
        ...(this.#opts.timeoutMs ? { timeoutMs: this.#opts.timeoutMs } : {}),
      });
      this.#exporters.set(host.key, exporter);
      this.#retireOthers(host.key);
    }
    return exporter.export(span);
  }

  /** Spans exported, queued and dropped, over every collector host. */
  stats(): { exported: number; queued: number; dropped: number } {
    let exported = 0;
    let queued = 0;
    let dropped = this.dropped;
    for (const e of this.#exporters.values()) {
      const s = e.stats();
      exported += s.exported;
      queued += s.queued;
      dropped += s.dropped;
    }
    return { exported, queued, dropped };
  }

  /** One last delivery attempt for what is queued (shutdown). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.#exporters.values()].map((e) => e.shutdown()));
  }

  async flush(): Promise<void> {
    await Promise.all([...this.#exporters.values()].map((e) => e.flush()));
  }

  /** Exporters with nothing queued go once many hosts were used (endpoint churn must not pile them up). */
  #retireOthers(current: string): void {
    if (this.#exporters.size < 8) return;
    for (const [key, e] of this.#exporters) {
      if (key === current || e.stats().queued > 0) continue;
      this.#exporters.delete(key);
      void e.shutdown();
    }
  }
}
