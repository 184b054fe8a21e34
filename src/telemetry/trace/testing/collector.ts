// An in-process trace collector for tests of every layer: accepts OTLP/HTTP JSON and Zipkin v2 JSON.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeOtlpJson, decodeZipkinJson } from '../decode.js';
import type { FinishedSpan } from '../span.js';

export type CollectorMode = 'ok' | 'down' | 'hang';

export interface ReceivedBatch {
  format: 'otlp' | 'zipkin';
  spans: FinishedSpan[];
}

export class TestCollector {
  readonly #server: Server;
  readonly batches: ReceivedBatch[] = [];
  /** `down` answers 503; `hang` never answers (until the mode changes or the collector closes). */
  mode: CollectorMode = 'ok';
  requests = 0;
  #hung: ServerResponse[] = [];
  #waiters: { n: number; resolve: () => void }[] = [];
  #requestWaiters: { n: number; resolve: () => void }[] = [];

  constructor() {
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  get spans(): FinishedSpan[] {
    return this.batches.flatMap((b) => b.spans);
  }

  /** Resolves once at least n spans have arrived. */
  waitForSpans(n: number): Promise<void> {
    if (this.spans.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }

  /** Resolves once at least n requests have arrived (whatever their outcome). */
  waitForRequests(n: number): Promise<void> {
    if (this.requests >= n) return Promise.resolve();
    return new Promise((resolve) => this.#requestWaiters.push({ n, resolve }));
  }

  setMode(mode: CollectorMode): void {
    this.mode = mode;
    if (mode !== 'hang') {
      for (const res of this.#hung.splice(0)) res.writeHead(503).end();
    }
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.requests++;
      this.#requestWaiters = this.#requestWaiters.filter((w) => {
        if (this.requests >= w.n) w.resolve();
        return this.requests < w.n;
      });
      if (this.mode === 'down') {
        res.writeHead(503).end();
        return;
      }
      if (this.mode === 'hang') {
        this.#hung.push(res);
        return;
      }
      let format: ReceivedBatch['format'];
      if (req.url === '/v1/traces') format = 'otlp';
      else if (req.url === '/api/v2/spans') format = 'zipkin';
      else {
        res.writeHead(404).end();
        return;
      }
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const spans = format === 'otlp' ? decodeOtlpJson(body) : decodeZipkinJson(body);
        this.batches.push({ format, spans });
      } catch (e) {
        res.writeHead(400).end(String(e));
        return;
      }
      res.writeHead(format === 'otlp' ? 200 : 202, { 'content-type': 'application/json' }).end('{}');
      const total = this.spans.length;
      this.#waiters = this.#waiters.filter((w) => {
        if (total >= w.n) w.resolve();
        return total < w.n;
      });
    });
  }

  async close(): Promise<void> {
    for (const res of this.#hung.splice(0)) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
