// Change notifications for the dashboard: a small event hub and the Server-Sent Events stream over it.

import type { ServerResponse } from 'node:http';
import { type Clock, systemClock, type Timer } from '../../shared/clock.js';
import type { RawHandler } from './router.js';
import type { EventData, EventTopic } from './types.js';

export type EventListener = (e: EventData) => void;

/** Fan-out of change events to every connected stream; topics carry no payload beyond the time. */
export class EventHub {
  readonly #listeners = new Set<EventListener>();
  readonly #clock: Clock;

  constructor(opts: { clock?: Clock } = {}) {
    this.#clock = opts.clock ?? systemClock;
  }

  publish(topic: EventTopic): void {
    const e: EventData = { topic, atMs: this.#clock.now() };
    for (const l of this.#listeners) l(e);
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }
}

export interface SseOptions {
  hub: EventHub;
  clock?: Clock;
  /** A comment line this often keeps proxies and browsers from timing the stream out. Default 15 s. */
  heartbeatMs?: number;
  /** Told when the first stream opens and the last one closes (the change watcher runs only then). */
  onActive?: (active: boolean) => void;
}

/** Tracks open streams so the server can end them on close (an SSE response never ends by itself). */
export class SseStreams {
  readonly #open = new Set<ServerResponse>();
  readonly #opts: SseOptions;

  constructor(opts: SseOptions) {
    this.#opts = opts;
  }

  get count(): number {
    return this.#open.size;
  }

  /** `GET /api/v1/events`: `hello` first, then one event per change, `id` counting from 1. */
  readonly handler: RawHandler = ({ req, res }) => {
    const clock = this.#opts.clock ?? systemClock;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let id = 0;
    const send = (e: EventData) => {
      id++;
      res.write(`id: ${id}\nevent: ${e.topic}\ndata: ${JSON.stringify(e)}\n\n`);
    };
    res.write('retry: 2000\n\n');
    send({ topic: 'hello', atMs: clock.now() });
    const unsubscribe = this.#opts.hub.subscribe(send);
    let timer: Timer | undefined;
    const heartbeat = () => {
      res.write(': ping\n\n');
      timer = clock.setTimeout(heartbeat, this.#opts.heartbeatMs ?? 15_000);
      timer.unref?.();
    };
    timer = clock.setTimeout(heartbeat, this.#opts.heartbeatMs ?? 15_000);
    timer.unref?.();
    this.#open.add(res);
    if (this.#open.size === 1) this.#opts.onActive?.(true);
    const done = () => {
      if (!this.#open.delete(res)) return;
      unsubscribe();
      if (timer) clock.clearTimeout(timer);
      if (this.#open.size === 0) this.#opts.onActive?.(false);
    };
    req.on('close', done);
    res.on('close', done);
  };

  /** Ends every open stream (server shutdown). */
  closeAll(): void {
    for (const res of [...this.#open]) res.end();
  }
}
