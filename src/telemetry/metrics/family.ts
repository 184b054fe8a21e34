// Metric families with fixed label names; a series is resolved once to a handle whose updates are O(1).

import { TrellisError } from '../../shared/errors.js';
import { escapeHelp, formatLabels, formatValue, isValidLabelName, isValidMetricName } from './exposition.js';

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface FamilyOptions {
  name: string;
  help: string;
  /** Label names in the order they are emitted. */
  labelNames: readonly string[];
  /** At most this many live series; further label sets get detached handles that record nothing visible. */
  maxSeries?: number;
  /** Whether idle series are dropped by the registry's sweep (default: counters and histograms yes, gauges no). */
  expires?: boolean;
}

const DEFAULT_MAX_SERIES = 10_000;

/**
 * State shared by every series kind. `touched` is the only bookkeeping the hot path does: the registry's
 * sweep turns it into a last-active time, so an update never reads a clock.
 */
export abstract class SeriesBase {
  readonly labelValues: readonly string[];
  /** `{a="x",b="y"}` rendered once at resolution time. */
  readonly labelText: string;
  touched = true;
  attached = true;
  lastActive = 0;
  protected readonly family: AnyFamily;

  constructor(family: AnyFamily, labelValues: readonly string[], labelText: string) {
    this.family = family;
    this.labelValues = labelValues;
    this.labelText = labelText;
  }

  /** Called by an update on a series that was expired or refused by the cap: try to make it visible again. */
  protected reattach(): void {
    this.family.reattach(this);
  }
}

export class CounterSeries extends SeriesBase {
  value = 0;

  inc(n = 1): void {
    this.value += n;
    this.touched = true;
    if (!this.attached) this.reattach();
  }
}

export class GaugeSeries extends SeriesBase {
  value = 0;

  set(v: number): void {
    this.value = v;
    this.touched = true;
    if (!this.attached) this.reattach();
  }

  inc(n = 1): void {
    this.set(this.value + n);
  }

  dec(n = 1): void {
    this.set(this.value - n);
  }
}

export class HistogramSeries extends SeriesBase {
  readonly bounds: readonly number[];
  /** Per-bucket (non-cumulative) counts; the last slot is the +Inf bucket. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    family: AnyFamily,
    labelValues: readonly string[],
    labelText: string,
    bounds: readonly number[],
  ) {
    super(family, labelValues, labelText);
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    const n = b.length;
    let i = 0;
    // Linear scan: request latencies and sizes land in the first few of Envoy's 19 buckets.
    while (i < n && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
    this.touched = true;
    if (!this.attached) this.reattach();
  }

  /** Cumulative counts per bound, then +Inf. */
  cumulative(): number[] {
    const out: number[] = [];
    let acc = 0;
    for (const c of this.counts) {
      acc += c;
      out.push(acc);
    }
    return out;
  }
}

export type AnySeries = CounterSeries | GaugeSeries | HistogramSeries;

export abstract class Family<S extends AnySeries> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly maxSeries: number;
  readonly expires: boolean;
  abstract readonly type: MetricType;
  /** How many label sets were refused because the family was at its cap. */
  overflowed = 0;
  readonly #series = new Map<string, S>();

  constructor(opts: FamilyOptions, defaultExpires: boolean) {
    if (!isValidMetricName(opts.name)) {
      throw new TrellisError('TELEMETRY_METRIC', `metric name "${opts.name}" is not a valid Prometheus name`);
    }
    for (const l of opts.labelNames) {
      if (!isValidLabelName(l)) {
        throw new TrellisError('TELEMETRY_METRIC', `metric ${opts.name}: label name "${l}" is not valid`);
      }
    }
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = Object.freeze([...opts.labelNames]);
    this.maxSeries = opts.maxSeries ?? DEFAULT_MAX_SERIES;
    this.expires = opts.expires ?? defaultExpires;
  }

  protected abstract create(labelValues: readonly string[], labelText: string): S;

  /** Resolves a label set (values in `labelNames` order) to its handle; call once, keep the handle. */
  series(labelValues: readonly string[]): S {
    if (labelValues.length !== this.labelNames.length) {
      throw new TrellisError(
        'TELEMETRY_LABELS',
        `metric ${this.name} takes ${this.labelNames.length} label values (${this.labelNames.join(', ')}), got ${labelValues.length}`,
      );
    }
    const key = labelValues.join('\u0000');
    const existing = this.#series.get(key);
    if (existing) return existing;
    const values = Object.freeze([...labelValues]);
    const s = this.create(values, formatLabels(this.labelNames, values));
    if (this.#series.size >= this.maxSeries) {
      s.attached = false;
      this.overflowed++;
      return s;
    }
    this.#series.set(key, s);
    return s;
  }

  /** Re-inserts a detached series (expired earlier, or refused by the cap) when there is room. */
  reattach(s: SeriesBase): void {
    const key = s.labelValues.join('\u0000');
    const current = this.#series.get(key);
    if (current === s) {
      s.attached = true;
      return;
    }
    if (current) {
      // Another handle now owns this label set: fold our value into it so nothing is double-reported.
      this.merge(current, s as S);
      s.attached = true;
      return;
    }
    if (this.#series.size >= this.maxSeries) return;
    this.#series.set(key, s as S);
    s.attached = true;
  }

  protected abstract merge(into: S, from: S): void;

  get size(): number {
    return this.#series.size;
  }

  /** Live series, in insertion order. */
  all(): IterableIterator<S> {
    return this.#series.values();
  }

  remove(labelValues: readonly string[]): boolean {
    const key = labelValues.join('\u0000');
    const s = this.#series.get(key);
    if (!s) return false;
    s.attached = false;
    return this.#series.delete(key);
  }

  /** Marks activity and drops series idle for at least idleMs; returns how many were dropped. */
  sweep(now: number, idleMs: number): number {
    let dropped = 0;
    for (const [key, s] of this.#series) {
      if (s.touched) {
        s.touched = false;
        s.lastActive = now;
      } else if (this.expires && now - s.lastActive >= idleMs) {
        s.attached = false;
        this.#series.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** Appends this family's exposition (HELP, TYPE, samples) to `out`. */
  render(out: string[]): void {
    if (this.#series.size === 0) return;
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`);
    this.renderSamples(out);
  }

  protected abstract renderSamples(out: string[]): void;
}

export type AnyFamily = Family<AnySeries>;

export class CounterFamily extends Family<CounterSeries> {
  readonly type = 'counter';

  constructor(opts: FamilyOptions) {
    super(opts, true);
  }

  protected create(v: readonly string[], t: string): CounterSeries {
    return new CounterSeries(this as unknown as AnyFamily, v, t);
  }

  protected merge(into: CounterSeries, from: CounterSeries): void {
    into.value += from.value;
    from.value = 0;
  }

  protected renderSamples(out: string[]): void {
    for (const s of this.all()) out.push(`${this.name}${s.labelText} ${formatValue(s.value)}\n`);
  }
}

export class GaugeFamily extends Family<GaugeSeries> {
  readonly type = 'gauge';

  constructor(opts: FamilyOptions) {
    super(opts, false);
  }

  protected create(v: readonly string[], t: string): GaugeSeries {
    return new GaugeSeries(this as unknown as AnyFamily, v, t);
  }

  protected merge(into: GaugeSeries, from: GaugeSeries): void {
    into.value = from.value;
  }

  protected renderSamples(out: string[]): void {
    for (const s of this.all()) out.push(`${this.name}${s.labelText} ${formatValue(s.value)}\n`);
  }
}

export interface HistogramFamilyOptions extends FamilyOptions {
  buckets: readonly number[];
}

export class HistogramFamily extends Family<HistogramSeries> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  readonly #leText: string[];

  constructor(opts: HistogramFamilyOptions) {
    super(opts, true);
    if (opts.labelNames.includes('le')) {
      throw new TrellisError('TELEMETRY_METRIC', `histogram ${opts.name} cannot use the reserved label "le"`);
    }
    this.buckets = Object.freeze([...opts.buckets].sort((a, b) => a - b));
    this.#leText = [...this.buckets.map((b) => `le="${formatValue(b)}"`), 'le="+Inf"'];
  }

  protected create(v: readonly string[], t: string): HistogramSeries {
    return new HistogramSeries(this as unknown as AnyFamily, v, t, this.buckets);
  }

  protected merge(into: HistogramSeries, from: HistogramSeries): void {
    for (let i = 0; i < into.counts.length; i++) into.counts[i]! += from.counts[i]!;
    into.sum += from.sum;
    into.count += from.count;
    from.counts.fill(0);
    from.sum = 0;
    from.count = 0;
  }

  protected renderSamples(out: string[]): void {
    const le = this.#leText;
    for (const s of this.all()) {
      const inner = s.labelText ? `${s.labelText.slice(0, -1)},` : '{';
      let acc = 0;
      for (let i = 0; i < s.counts.length; i++) {
        acc += s.counts[i]!;
        out.push(`${this.name}_bucket${inner}${le[i]}} ${acc}\n`);
      }
      out.push(`${this.name}_sum${s.labelText} ${formatValue(s.sum)}\n`);
      out.push(`${this.name}_count${s.labelText} ${s.count}\n`);
    }
  }
}
