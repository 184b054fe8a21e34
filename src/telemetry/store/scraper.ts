// Scrapes Prometheus text from a changing list of targets on an interval into the TimeSeriesStore.

import { request } from 'node:http';
import { type Clock, systemClock, type Timer } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import { type Logger, silentLogger } from '../../shared/log.js';
import { parsePrometheusText } from './promtext.js';
import type { TimeSeriesStore } from './tsdb.js';

export interface ScrapeTarget {
  /** `http://127.0.0.1:15090/stats/prometheus` */
  url: string;
  /** Added to every sample: pod, namespace, workload, role (`proxy` | `app`), ... */
  labels: Record<string, string>;
}

export interface ScraperOptions {
  store: TimeSeriesStore;
  /** Default 5 s. */
  intervalMs?: number;
  /** Default: the interval. */
  timeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Largest body accepted, in bytes. Default 16 MiB. */
  maxBodyBytes?: number;
}

export interface TargetHealth {
  url: string;
  labels: Record<string, string>;
  up: boolean;
  lastScrapeMs?: number;
  lastError?: string;
  samples: number;
  durationMs?: number;
}

/**
 * Scrapes every target once per interval. Target labels are attached to each sample; a scraped label with
 * the same name is kept as `exported_<name>`, as Prometheus does with honor_labels: false. Each scrape also
 * records `up` (1 or 0) per target.
 */
export class Scraper {
  readonly #store: TimeSeriesStore;
  readonly #interval: number;
  readonly #timeout: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #maxBody: number;
  readonly #targets = new Map<string, TargetHealth>();
  #timer: Timer | undefined;
  #running = false;

  constructor(opts: ScraperOptions) {
    this.#store = opts.store;
    this.#interval = opts.intervalMs ?? 5000;
    this.#timeout = opts.timeoutMs ?? this.#interval;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
    this.#maxBody = opts.maxBodyBytes ?? 16 * 1024 * 1024;
  }

  /** Replaces the target list; targets that stay keep their health history. */
  setTargets(targets: readonly ScrapeTarget[]): void {
    const next = new Set(targets.map((t) => t.url));
    for (const url of this.#targets.keys()) if (!next.has(url)) this.#targets.delete(url);
    for (const t of targets) {
      const h = this.#targets.get(t.url);
      if (h) h.labels = { ...t.labels };
      else this.#targets.set(t.url, { url: t.url, labels: { ...t.labels }, up: false, samples: 0 });
    }
  }

  targets(): TargetHealth[] {
    return [...this.#targets.values()].map((t) => ({ ...t, labels: { ...t.labels } }));
  }

  /** Scrapes every target now, in parallel; resolves when all are done. */
  async scrapeOnce(): Promise<void> {
    await Promise.all([...this.#targets.values()].map((t) => this.#scrape(t)));
  }

  async #scrape(t: TargetHealth): Promise<void> {
    const started = this.#clock.now();
    const labels = { ...t.labels };
    try {
      const text = await this.#fetch(t.url);
      const parsed = parsePrometheusText(text);
      for (const s of parsed.samples) {
        const merged: Record<string, string> = { ...s.labels };
        for (const [k, v] of Object.entries(labels)) {
          if (k in merged) merged[`exported_${k}`] = merged[k]!;
          merged[k] = v;
        }
        this.#store.append(s.name, merged, started, s.value);
      }
      t.up = true;
      t.samples = parsed.samples.length;
      delete t.lastError;
    } catch (e) {
      t.up = false;
      t.samples = 0;
      t.lastError = errorMessage(e);
      this.#log.debug('scrape failed', { url: t.url, error: t.lastError });
    }
    t.lastScrapeMs = started;
    t.durationMs = this.#clock.now() - started;
    this.#store.append('up', labels, started, t.up ? 1 : 0);
  }

  #fetch(url: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        { timeout: this.#timeout, headers: { accept: 'text/plain;version=0.0.4' } },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`scrape of ${url} answered HTTP ${res.statusCode}`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > this.#maxBody) {
              req.destroy(new Error(`scrape of ${url} exceeded ${this.#maxBody} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`scrape of ${url} timed out after ${this.#timeout} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  /** Starts scraping every interval (first scrape immediately); also compacts the store. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const tick = () => {
      if (!this.#running) return;
      void this.scrapeOnce().finally(() => {
        this.#store.compact(this.#clock.now());
      });
      this.#timer = this.#clock.setTimeout(tick, this.#interval);
      this.#timer.unref?.();
    };
    tick();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
