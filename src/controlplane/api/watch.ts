// Turns changes in the views into hub events: pushed where a view can push, polled by fingerprint otherwise.

import { type Clock, systemClock, type Timer } from '../../shared/clock.js';
import type { EventHub } from './events.js';
import type { EventTopic } from './types.js';
import type { ConfigView, ProxyView, RuntimeView, TelemetryView } from './views.js';

export interface ChangeWatcherOptions {
  hub: EventHub;
  config: ConfigView;
  proxies: ProxyView;
  runtime?: RuntimeView;
  telemetry: TelemetryView;
  clock?: Clock;
  /** How often views without subscribe() are compared. Default 2 s. */
  pollMs?: number;
  /** How often telemetry is checked for new data (the scrape interval suits). Default 5 s. */
  telemetryTickMs?: number;
}

/** Small strings that change when what the dashboard shows changes; cheap enough to compute every poll. */
const fingerprints = {
  config: (v: ConfigView) =>
    v
      .list()
      .map(
        (i) =>
          `${i.kind}/${i.namespace}/${i.name}@${i.resourceVersion}:${i.appliedTo.total}/${i.appliedTo.acked}/${i.appliedTo.nacked}:${i.messages.map((m) => m.code).join(',')}`,
      )
      .join('|'),
  proxies: (v: ProxyView) =>
    v
      .list()
      .map(
        (p) =>
          `${p.id}@${p.connectedSince}:${Object.entries(p.xds)
            .map(([t, s]) => `${t}=${s.sent}/${s.acked}/${s.state}/${s.lastNack?.at ?? ''}`)
            .join(',')}`,
      )
      .join('|'),
  status: (v: RuntimeView) =>
    v
      .status()
      .pods.map(
        (p) =>
          `${p.namespace}/${p.name}:${p.ready}:${p.ips.join(',')}:${p.containers.map((c) => `${c.name}=${c.ready}/${c.state ?? ''}/${c.restarts ?? 0}`).join(',')}`,
      )
      .join('|'),
};

/**
 * Runs only while a dashboard is connected (start/stop from the SSE stream count), so an idle control plane
 * does no polling. Telemetry counts as changed when a scrape finished or spans arrived since the last tick;
 * without scrape targets (a Prometheus backend, or samples written to the store directly) every tick counts.
 */
export class ChangeWatcher {
  readonly #opts: ChangeWatcherOptions;
  readonly #clock: Clock;
  readonly #last = new Map<EventTopic, string>();
  readonly #unsubscribe: (() => void)[] = [];
  /** One pending timer per loop. */
  readonly #pending = new Map<string, Timer>();
  #running = false;
  #ticks = 0;

  constructor(opts: ChangeWatcherOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const { hub, config, proxies, runtime } = this.#opts;
    const polled: [EventTopic, () => string][] = [];
    const watch = <V extends { subscribe?(l: () => void): () => void }>(
      topic: EventTopic,
      view: V,
      print: (v: V) => string,
    ) => {
      if (view.subscribe) this.#unsubscribe.push(view.subscribe(() => hub.publish(topic)));
      else polled.push([topic, () => print(view)]);
    };
    watch('config', config, fingerprints.config);
    watch('proxies', proxies, fingerprints.proxies);
    if (runtime) watch('status', runtime, fingerprints.status);
    polled.push(['telemetry', () => this.#telemetryPrint()]);
    for (const [topic, print] of polled) this.#last.set(topic, print());
    const loop = (name: string, every: number, topics: [EventTopic, () => string][]) => {
      const tick = () => {
        if (!this.#running) return;
        for (const [topic, print] of topics) {
          const now = print();
          if (now !== this.#last.get(topic)) {
            this.#last.set(topic, now);
            hub.publish(topic);
          }
        }
        this.#schedule(name, tick, every);
      };
      this.#schedule(name, tick, every);
    };
    const views = polled.filter(([t]) => t !== 'telemetry');
    if (views.length) loop('views', this.#opts.pollMs ?? 2000, views);
    loop(
      'telemetry',
      this.#opts.telemetryTickMs ?? 5000,
      polled.filter(([t]) => t === 'telemetry'),
    );
  }

  #schedule(name: string, fn: () => void, ms: number): void {
    const t = this.#clock.setTimeout(fn, ms);
    t.unref?.();
    this.#pending.set(name, t);
  }

  #telemetryPrint(): string {
    const { scraper, traces } = this.#opts.telemetry;
    const spans = `${traces.spanCount}/${traces.evicted}`;
    const targets = scraper?.targets() ?? [];
    if (!targets.length) return `${spans}/${this.#ticks++}`;
    const last = Math.max(0, ...targets.map((t) => t.lastScrapeMs ?? 0));
    return `${spans}/${last}`;
  }

  stop(): void {
    this.#running = false;
    for (const t of this.#pending.values()) this.#clock.clearTimeout(t);
    this.#pending.clear();
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#last.clear();
  }
}
