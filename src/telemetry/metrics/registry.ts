// A set of metric families rendered together, with a background sweep that expires idle series.

import { type Clock, systemClock, type Timer } from '../../shared/clock.js';
import { TrellisError } from '../../shared/errors.js';
import {
  type AnyFamily,
  CounterFamily,
  type FamilyOptions,
  GaugeFamily,
  HistogramFamily,
  type HistogramFamilyOptions,
} from './family.js';

export interface MetricsRegistryOptions {
  clock?: Clock;
  /** A series not updated for this long is dropped (Istio issue #35066: metrics never expire). Default 10 min. */
  seriesIdleMs?: number;
  /** How often the sweep runs; default a quarter of seriesIdleMs. */
  sweepIntervalMs?: number;
}

export class MetricsRegistry {
  readonly #families = new Map<string, AnyFamily>();
  readonly #clock: Clock;
  readonly #idleMs: number;
  readonly #sweepMs: number;
  #timer: Timer | undefined;
  /** Series dropped by expiry since start, for the registry's own health metric. */
  expired = 0;

  constructor(opts: MetricsRegistryOptions = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.#idleMs = opts.seriesIdleMs ?? 600_000;
    this.#sweepMs = opts.sweepIntervalMs ?? Math.max(1, Math.floor(this.#idleMs / 4));
  }

  counter(opts: FamilyOptions): CounterFamily {
    return this.#add(new CounterFamily(opts));
  }

  gauge(opts: FamilyOptions): GaugeFamily {
    return this.#add(new GaugeFamily(opts));
  }

  histogram(opts: HistogramFamilyOptions): HistogramFamily {
    return this.#add(new HistogramFamily(opts));
  }

  #add<F extends AnyFamily>(f: F): F {
    if (this.#families.has(f.name)) {
      throw new TrellisError('TELEMETRY_METRIC', `metric ${f.name} is already registered`);
    }
    this.#families.set(f.name, f);
    return f;
  }

  get(name: string): AnyFamily | undefined {
    return this.#families.get(name);
  }

  families(): IterableIterator<AnyFamily> {
    return this.#families.values();
  }

  /** Prometheus text exposition (format 0.0.4) of every family with at least one series. */
  render(): string {
    const out: string[] = [];
    for (const f of this.#families.values()) f.render(out);
    return out.join('');
  }

  /** One sweep now; returns the number of series dropped. */
  sweep(): number {
    const now = this.#clock.now();
    let n = 0;
    for (const f of this.#families.values()) n += f.sweep(now, this.#idleMs);
    this.expired += n;
    return n;
  }

  /** Starts the periodic sweep (unref'd: it never keeps a process alive). */
  start(): void {
    if (this.#timer) return;
    const tick = () => {
      this.sweep();
      this.#timer = this.#clock.setTimeout(tick, this.#sweepMs);
      this.#timer.unref?.();
    };
    this.#timer = this.#clock.setTimeout(tick, this.#sweepMs);
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
