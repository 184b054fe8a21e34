// A bounded in-memory time-series store: one ring buffer per series, a cap on series, age-based cleanup.

import { type LabelMatcher, matchesAll } from './matchers.js';

export type Labels = Readonly<Record<string, string>>;

export interface TimeSeriesStoreOptions {
  /** How long samples are kept. Default 1 h. */
  retentionMs?: number;
  /** The expected sample interval; with retention it sizes each ring. Default 5 s. */
  resolutionMs?: number;
  /** At most this many series; samples for new series beyond it are dropped and counted. Default 50 000. */
  maxSeries?: number;
}

/** One series: parallel rings of timestamps (ms) and values. */
export class RingSeries {
  readonly name: string;
  readonly labels: Labels;
  readonly times: Float64Array;
  readonly values: Float64Array;
  #head = 0;
  #length = 0;

  constructor(name: string, labels: Labels, capacity: number) {
    this.name = name;
    this.labels = labels;
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  get length(): number {
    return this.#length;
  }

  get lastTime(): number {
    if (this.#length === 0) return Number.NEGATIVE_INFINITY;
    const cap = this.times.length;
    return this.times[(this.#head - 1 + cap) % cap]!;
  }

  /** Appends in time order; a sample not newer than the last one is ignored (as Prometheus's out-of-order). */
  append(t: number, v: number): boolean {
    if (this.#length > 0 && t <= this.lastTime) return false;
    const cap = this.times.length;
    this.times[this.#head] = t;
    this.values[this.#head] = v;
    this.#head = (this.#head + 1) % cap;
    if (this.#length < cap) this.#length++;
    return true;
  }

  /** Samples with start <= t <= end, oldest first. */
  range(start: number, end: number): { t: number[]; v: number[] } {
    const t: number[] = [];
    const v: number[] = [];
    const cap = this.times.length;
    const first = (this.#head - this.#length + cap) % cap;
    for (let i = 0; i < this.#length; i++) {
      const j = (first + i) % cap;
      const ts = this.times[j]!;
      if (ts < start) continue;
      if (ts > end) break;
      t.push(ts);
      v.push(this.values[j]!);
    }
    return { t, v };
  }

  /** The newest sample at or before `at`, if it is no older than lookbackMs. */
  latest(at: number, lookbackMs: number): number | undefined {
    const r = this.range(at - lookbackMs, at);
    return r.v.length ? r.v[r.v.length - 1] : undefined;
  }
}

function seriesKey(name: string, labels: Labels): string {
  let key = name;
  for (const k of Object.keys(labels).sort()) key += `\u0000${k}\u0001${labels[k]}`;
  return key;
}

export interface StoreStats {
  series: number;
  samples: number;
  /** Bytes held by the rings (16 per slot) plus a per-series estimate for labels and bookkeeping. */
  estimatedBytes: number;
  droppedSeries: number;
}

export class TimeSeriesStore {
  readonly retentionMs: number;
  readonly capacity: number;
  readonly #maxSeries: number;
  readonly #series = new Map<string, RingSeries>();
  readonly #byName = new Map<string, Set<RingSeries>>();
  #droppedSeries = 0;

  constructor(opts: TimeSeriesStoreOptions = {}) {
    this.retentionMs = opts.retentionMs ?? 3_600_000;
    const resolution = opts.resolutionMs ?? 5000;
    // +2: a full window's worth plus the samples on both edges.
    this.capacity = Math.ceil(this.retentionMs / resolution) + 2;
    this.#maxSeries = opts.maxSeries ?? 50_000;
  }

  append(name: string, labels: Labels, t: number, v: number): boolean {
    const key = seriesKey(name, labels);
    let s = this.#series.get(key);
    if (!s) {
      if (this.#series.size >= this.#maxSeries) {
        this.#droppedSeries++;
        return false;
      }
      s = new RingSeries(name, Object.freeze({ ...labels }), this.capacity);
      this.#series.set(key, s);
      let set = this.#byName.get(name);
      if (!set) {
        set = new Set();
        this.#byName.set(name, set);
      }
      set.add(s);
    }
    return s.append(t, v);
  }

  select(name: string, matchers: readonly LabelMatcher[] = []): RingSeries[] {
    const set = this.#byName.get(name);
    if (!set) return [];
    const out: RingSeries[] = [];
    for (const s of set) if (matchesAll(s.labels, matchers)) out.push(s);
    return out;
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }

  /** Drops series whose newest sample is older than the retention; returns how many. */
  compact(now: number): number {
    let n = 0;
    for (const [key, s] of this.#series) {
      if (s.lastTime < now - this.retentionMs) {
        this.#series.delete(key);
        this.#byName.get(s.name)?.delete(s);
        n++;
      }
    }
    return n;
  }

  stats(): StoreStats {
    let samples = 0;
    let labelBytes = 0;
    for (const s of this.#series.values()) {
      samples += s.length;
      for (const [k, v] of Object.entries(s.labels)) labelBytes += 2 * (k.length + v.length) + 32;
    }
    const rings = this.#series.size * this.capacity * 16;
    return {
      series: this.#series.size,
      samples,
      estimatedBytes: rings + labelBytes + this.#series.size * 200,
      droppedSeries: this.#droppedSeries,
    };
  }
}
