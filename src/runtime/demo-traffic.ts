// Light, steady traffic for `trellis demo`: productpage through the ingress, every fourth visit signed in as jason.

import http from 'node:http';
import type { Clock } from '../shared/clock.js';
import { systemClock, type Timer } from '../shared/clock.js';

export interface DemoTrafficOptions {
  /** `http://127.0.0.1:8080` */
  ingressUrl: string;
  /** Requests per second; default 3. */
  rate?: number;
  clock?: Clock;
  onSummary?: (line: string) => void;
  summaryEveryMs?: number;
}

function request(
  url: URL,
  o: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; cookie?: string }> {
  return new Promise((resolve) => {
    const req = http.request(
      url,
      { method: o.method ?? 'GET', headers: o.headers ?? {}, timeout: 10_000 },
      (res) => {
        res.resume();
        res.once('end', () => {
          const cookie = res.headers['set-cookie']?.[0]?.split(';')[0];
          resolve({ status: res.statusCode ?? 0, ...(cookie ? { cookie } : {}) });
        });
      },
    );
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve({ status: 0 }));
    req.end(o.body);
  });
}

export class DemoTraffic {
  readonly #o: DemoTrafficOptions;
  readonly #clock: Clock;
  readonly #counts = new Map<string, number>();
  #timer: Timer | undefined;
  #summaryTimer: Timer | undefined;
  #stopped = false;
  #sent = 0;
  #jasonCookie: string | undefined;

  constructor(o: DemoTrafficOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
  }

  /** Status code → count since the start (0 = no response). */
  get counts(): ReadonlyMap<string, number> {
    return this.#counts;
  }

  start(): void {
    this.#tick();
    this.#summary();
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimeout(() => this.#tick(), 1000 / (this.#o.rate ?? 3));
    void this.#visit(this.#sent++ % 4 === 3);
  }

  async #visit(asJason: boolean): Promise<void> {
    const page = new URL('/productpage', this.#o.ingressUrl);
    if (asJason && !this.#jasonCookie) {
      const login = await request(new URL('/login', this.#o.ingressUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'username=jason&passwd=jason',
      });
      this.#jasonCookie = login.cookie;
    }
    const r = await request(
      page,
      asJason && this.#jasonCookie ? { headers: { cookie: this.#jasonCookie } } : {},
    );
    const key = String(r.status);
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  #summary(): void {
    if (this.#stopped || !this.#o.onSummary) return;
    this.#summaryTimer = this.#clock.setTimeout(() => {
      const parts = [...this.#counts]
        .sort()
        .map(([code, n]) => `${n} × ${code === '0' ? 'no response' : code}`);
      this.#o.onSummary?.(
        `traffic: ${this.#sent} requests to /productpage (${parts.join(', ') || 'none answered yet'})`,
      );
      this.#summary();
    }, this.#o.summaryEveryMs ?? 15_000);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    if (this.#summaryTimer) this.#clock.clearTimeout(this.#summaryTimer);
  }
}
