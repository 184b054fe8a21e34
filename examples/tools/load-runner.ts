// Runs a fortio-style load: N connections, each sending its share of calls in turn on its own keep-alive socket.

import http from 'node:http';
import type { Duplex } from 'node:stream';
import { HttpRequestError, httpRequest } from '../shared/http-client.js';
import type { ProxyEnv } from '../shared/proxy-env.js';
import type { LoadArgs } from './load-args.js';

export interface CallResult {
  /** HTTP status, or -1 when no response came (refused, reset, timeout), as fortio counts it. */
  code: number;
  durationMs: number;
  headerBytes: number;
  bodyBytes: number;
  error: string | undefined;
}

export interface LoadResult {
  startedAt: Date;
  elapsedMs: number;
  calls: CallResult[];
  /** Sockets each connection opened; 1 each means perfect keep-alive. */
  socketsPerConnection: number[];
}

export interface RunnerDeps {
  env: ProxyEnv;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** An agent of at most one socket that counts the sockets it opens (fortio's "Sockets used"). */
class CountingAgent extends http.Agent {
  opened = 0;

  constructor() {
    super({ keepAlive: true, maxSockets: 1 });
  }

  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    this.opened++;
    return super.createConnection(options, callback);
  }
}

export async function runLoad(args: LoadArgs, deps: RunnerDeps): Promise<LoadResult> {
  const now = deps.now ?? (() => performance.now());
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const startedAt = new Date();
  const start = now();
  const calls: CallResult[] = [];
  const agents = Array.from({ length: args.concurrency }, () => new CountingAgent());
  const headers: Record<string, string> = {};
  for (const [k, v] of args.headers) headers[k.toLowerCase()] = v;
  if (args.payload !== undefined) headers['content-type'] = args.contentType ?? 'application/octet-stream';
  const method = args.payload !== undefined ? 'POST' : 'GET';
  // With -qps each connection sends at qps/c, so the total rate is qps.
  const intervalMs = args.qps > 0 ? (1000 * args.concurrency) / args.qps : 0;

  const worker = async (index: number) => {
    const agent = agents[index]!;
    const quota =
      args.calls === undefined
        ? Number.POSITIVE_INFINITY
        : Math.floor(args.calls / args.concurrency) + (index < args.calls % args.concurrency ? 1 : 0);
    for (let k = 0; k < quota; k++) {
      if (args.calls === undefined && now() - start >= args.durationMs) break;
      if (intervalMs > 0) {
        const due = start + k * intervalMs;
        if (due > now()) await sleep(due - now());
        if (args.calls === undefined && now() - start >= args.durationMs) break;
      }
      const t0 = now();
      try {
        const res = await httpRequest(args.url, {
          method,
          headers,
          body: args.payload,
          timeoutMs: args.timeoutMs,
          env: deps.env,
          agent,
          tls: { insecure: args.insecure },
        });
        let headerBytes = `HTTP/${res.httpVersion} ${res.status} ${res.statusMessage}\r\n`.length + 2;
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          headerBytes += res.rawHeaders[i]!.length + res.rawHeaders[i + 1]!.length + 4;
        }
        calls.push({
          code: res.status,
          durationMs: now() - t0,
          headerBytes,
          bodyBytes: res.body.length,
          error: undefined,
        });
      } catch (e) {
        if (!(e instanceof HttpRequestError)) throw e;
        calls.push({
          code: -1,
          durationMs: now() - t0,
          headerBytes: 0,
          bodyBytes: 0,
          error: `${e.code}: ${e.message}`,
        });
      }
    }
  };
  try {
    await Promise.all(agents.map((_, i) => worker(i)));
  } finally {
    for (const agent of agents) agent.destroy();
  }
  return { startedAt, elapsedMs: now() - start, calls, socketsPerConnection: agents.map((a) => a.opened) };
}
