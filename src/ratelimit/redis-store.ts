// Fixed-window counters in Redis, shared by every service replica: INCRBY + EXPIRE in one pipeline.

import { Redis } from 'ioredis';
import { TrellisError } from '../shared/errors.js';
import { type Logger, silentLogger } from '../shared/log.js';
import type { CounterIncrement, CounterStore } from './store.js';

export interface RedisCounterStoreOptions {
  /** `redis://host:port[/db]`. */
  url: string;
  /** Per-command timeout; a slow Redis must not hold the proxy's request (default 1000 ms). */
  commandTimeoutMs?: number;
  logger?: Logger;
}

/**
 * Commands are not queued while Redis is unreachable: they fail at once, the service answers the
 * RPC with an error, and each proxy applies its own failure mode (fail open or closed).
 */
export class RedisCounterStore implements CounterStore {
  readonly #redis: Redis;
  readonly #url: string;

  constructor(opts: RedisCounterStoreOptions) {
    this.#url = opts.url;
    const logger = opts.logger ?? silentLogger;
    this.#redis = new Redis(opts.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeoutMs ?? 1000,
      connectTimeout: opts.commandTimeoutMs ?? 1000,
      // Keep reconnecting (capped backoff), so the service recovers when Redis comes back.
      retryStrategy: (times) => Math.min(times * 100, 2000),
    });
    this.#redis.on('error', (e: Error) => logger.warn('redis error', { url: opts.url, error: e.message }));
  }

  /** Resolves once connected (or rejects after the connect timeout); useful at startup. */
  async ready(): Promise<void> {
    if (this.#redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        cleanup();
        resolve();
      };
      const onEnd = () => {
        cleanup();
        reject(new TrellisError('REDIS_UNAVAILABLE', `redis at ${this.#url} is not reachable`));
      };
      const cleanup = () => {
        this.#redis.off('ready', onReady);
        this.#redis.off('end', onEnd);
      };
      this.#redis.on('ready', onReady);
      this.#redis.on('end', onEnd);
    });
  }

  async increment(items: readonly CounterIncrement[]): Promise<number[]> {
    if (items.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const item of items) {
      pipeline.incrby(item.key, item.hits);
      pipeline.expire(item.key, item.ttlSeconds);
    }
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (e) {
      throw new TrellisError(
        'REDIS_UNAVAILABLE',
        `redis at ${this.#url}: ${(e as Error).message}`,
        undefined,
        {
          cause: e,
        },
      );
    }
    if (!results)
      throw new TrellisError('REDIS_UNAVAILABLE', `redis at ${this.#url}: pipeline was discarded`);
    return items.map((_, i) => {
      const [err, value] = results[i * 2]!;
      if (err)
        throw new TrellisError('REDIS_UNAVAILABLE', `redis at ${this.#url}: ${err.message}`, undefined, {
          cause: err,
        });
      return Number(value);
    });
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}
