// Runs the rate limit service from config files until told to stop: what `trellis ratelimit` does.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, TrellisError } from '../shared/errors.js';
import { type Logger, silentLogger } from '../shared/log.js';
import { parseRateLimitConfig, type RateLimitConfigSet } from './config.js';
import { MemoryCounterStore } from './memory-store.js';
import { RedisCounterStore } from './redis-store.js';
import { type RunningRateLimitServer, startRateLimitServer } from './server.js';
import { RateLimitDecider } from './service.js';
import type { CounterStore } from './store.js';

export interface RunRateLimitOptions {
  /** Files, or directories whose `*.yaml`/`*.yml` files are read. */
  configPaths: readonly string[];
  /** Counters in Redis (shared by replicas); without it, in this process only. */
  redisUrl?: string;
  host?: string;
  port?: number;
  keyPrefix?: string;
  responseHeaders?: boolean;
  logger?: Logger;
}

export interface RunningRateLimitService {
  readonly server: RunningRateLimitServer;
  readonly domains: readonly string[];
  /** Re-reads the config files; on error the running config stays and the error is thrown. */
  reload(): RateLimitConfigSet;
  close(): Promise<void>;
}

export function loadRateLimitConfig(paths: readonly string[]): RateLimitConfigSet {
  const sources: { name: string; text: string }[] = [];
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (e) {
      throw new TrellisError('RATELIMIT_CONFIG', `cannot read rate limit config ${path}: ${errorMessage(e)}`);
    }
    const files = isDir
      ? readdirSync(path)
          .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
          .sort()
          .map((f) => join(path, f))
      : [path];
    for (const file of files) sources.push({ name: file, text: readFileSync(file, 'utf8') });
  }
  if (sources.length === 0)
    throw new TrellisError('RATELIMIT_CONFIG', `no rate limit config found in ${paths.join(', ')}`);
  return parseRateLimitConfig(sources);
}

export async function runRateLimitService(opts: RunRateLimitOptions): Promise<RunningRateLimitService> {
  const logger = opts.logger ?? silentLogger;
  let config = loadRateLimitConfig(opts.configPaths);
  let store: CounterStore;
  if (opts.redisUrl) {
    const redis = new RedisCounterStore({ url: opts.redisUrl, logger });
    try {
      await redis.ready();
    } catch (e) {
      // Keep serving: each answer is an error until Redis is back, and proxies apply their failure mode.
      logger.warn('redis is not reachable yet; answering errors until it is', {
        url: opts.redisUrl,
        error: errorMessage(e),
      });
    }
    store = redis;
  } else {
    logger.warn('counters are kept in memory: run a single replica, or pass --redis for several');
    store = new MemoryCounterStore();
  }
  const decider = new RateLimitDecider({
    config,
    store,
    ...(opts.keyPrefix !== undefined ? { keyPrefix: opts.keyPrefix } : {}),
    ...(opts.responseHeaders === false ? { responseHeaders: false as const } : {}),
  });
  const serverOpts: Parameters<typeof startRateLimitServer>[0] = { decider, logger };
  if (opts.host !== undefined) serverOpts.host = opts.host;
  if (opts.port !== undefined) serverOpts.port = opts.port;
  const server = await startRateLimitServer(serverOpts);
  const domains = [...config.domains.keys()];
  logger.info('rate limit service listening', {
    address: `${server.host}:${server.port}`,
    domains,
    counters: opts.redisUrl ?? 'memory',
  });
  return {
    server,
    domains,
    reload() {
      config = loadRateLimitConfig(opts.configPaths);
      decider.setConfig(config);
      logger.info('rate limit config reloaded', { domains: [...config.domains.keys()] });
      return config;
    },
    async close() {
      await server.close();
      await store.close();
    },
  };
}
