// A small ClusterManager for pipeline tests: real Http1Pool/Http2Pool per endpoint, round robin, retry limits.

import type { ClusterConfig } from '../../../src/sidecar/config/model.js';
import type { ProxyRequest } from '../../../src/sidecar/http/message.js';
import type {
  ClusterManager,
  UpstreamAttempt,
  UpstreamCluster,
  UpstreamFailure,
  UpstreamRequestOptions,
} from '../../../src/sidecar/runtime/contracts.js';
import { Host } from '../../../src/sidecar/upstream/lb/host.js';
import type { UpstreamOutcome } from '../../../src/sidecar/upstream/outlier/outcome.js';
import { isUpstreamError } from '../../../src/sidecar/upstream/pool/errors.js';
import { Http1Pool, type UpstreamPool } from '../../../src/sidecar/upstream/pool/h1-pool.js';
import { Http2Pool } from '../../../src/sidecar/upstream/pool/h2-pool.js';

class TestFailure extends Error implements UpstreamFailure {
  readonly flag: string;
  readonly reason: string;
  readonly retriable: boolean;
  readonly host: Host | undefined;
  constructor(flag: string, reason: string, retriable: boolean, host?: Host, cause?: unknown) {
    super(reason, { cause });
    this.flag = flag;
    this.reason = reason;
    this.retriable = retriable;
    this.host = host;
  }
}

export interface TestClusterInit {
  name: string;
  endpoints: { port: number; host?: string; metadata?: Record<string, unknown> }[];
  protocol?: 'http1' | 'http2';
  /** Circuit breaker max_retries (concurrent retries); default unlimited. */
  maxRetries?: number;
  /** `istio.services` metadata for metric labels. */
  services?: { host: string; name: string; namespace: string }[];
  /** Every request fails as the core would fail it (circuit breaker overflow: `UO`...). */
  failWith?: { flag: string; reason: string };
}

/** What a test can assert about a cluster: every attempt, its options, and how each ended. */
export interface AttemptLog {
  host: string;
  retry: boolean;
  previousHosts: string[];
  hash: bigint | undefined;
  authority: string;
  outcome?: UpstreamOutcome;
}

export class TestCluster implements UpstreamCluster {
  readonly name: string;
  readonly config: ClusterConfig;
  readonly hosts: Host[];
  readonly attempts: AttemptLog[] = [];
  readonly #pools = new Map<Host, UpstreamPool>();
  readonly #maxRetries: number;
  readonly #failWith: { flag: string; reason: string } | undefined;
  #activeRetries = 0;
  retriesStarted = 0;
  retriesRefused = 0;
  #next = 0;

  constructor(init: TestClusterInit) {
    this.name = init.name;
    this.#maxRetries = init.maxRetries ?? Number.POSITIVE_INFINITY;
    this.#failWith = init.failWith;
    this.config = {
      name: init.name,
      http: { protocol: init.protocol ?? 'http1' },
      istio: { services: init.services ?? [] },
    } as unknown as ClusterConfig;
    this.hosts = init.endpoints.map(
      (e) => new Host({ address: e.host ?? '127.0.0.1', port: e.port, metadata: e.metadata ?? {} }),
    );
    for (const h of this.hosts) {
      const endpoint = { host: h.address, port: h.port };
      this.#pools.set(
        h,
        init.protocol === 'http2'
          ? new Http2Pool({ endpoint, connectTimeoutMs: 1000 })
          : new Http1Pool({ endpoint, connectTimeoutMs: 1000 }),
      );
    }
  }

  #pick(previous: ReadonlySet<Host> | undefined): Host | undefined {
    const n = this.hosts.length;
    for (let i = 0; i < n; i++) {
      const h = this.hosts[(this.#next + i) % n]!;
      if (previous?.has(h)) continue;
      this.#next = (this.#next + i + 1) % n;
      return h;
    }
    if (n === 0) return undefined;
    const h = this.hosts[this.#next % n]!;
    this.#next = (this.#next + 1) % n;
    return h;
  }

  async request(req: ProxyRequest, opts: UpstreamRequestOptions): Promise<UpstreamAttempt> {
    if (this.#failWith) {
      req.body.cancel();
      throw new TestFailure(this.#failWith.flag, this.#failWith.reason, false);
    }
    const host = this.#pick(opts.previousHosts);
    if (host === undefined) {
      throw new TestFailure('UH', `no healthy endpoints in cluster "${this.name}"`, false);
    }
    const log: AttemptLog = {
      host: host.key,
      retry: opts.retry ?? false,
      previousHosts: [...(opts.previousHosts ?? [])].map((h) => h.key),
      hash: opts.hash,
      authority: req.authority,
    };
    this.attempts.push(log);
    try {
      const response = await this.#pools.get(host)!.request(req, { signal: opts.signal });
      return {
        response,
        host,
        upstreamLocalAddress: '127.0.0.1:0',
        done: (outcome) => {
          log.outcome = outcome;
        },
      };
    } catch (e) {
      if (isUpstreamError(e)) {
        throw new TestFailure(
          e.flag,
          `cluster "${this.name}" endpoint ${host.key}: ${e.message}`,
          !e.responseStarted,
          host,
          e,
        );
      }
      throw e;
    }
  }

  tryStartRetry(): boolean {
    if (this.#activeRetries >= this.#maxRetries) {
      this.retriesRefused++;
      return false;
    }
    this.#activeRetries++;
    this.retriesStarted++;
    return true;
  }

  retryFinished(): void {
    this.#activeRetries--;
  }

  close(): void {
    for (const p of this.#pools.values()) p.destroy();
  }
}

export class TestClusters implements ClusterManager {
  readonly #clusters = new Map<string, TestCluster>();

  add(init: TestClusterInit): TestCluster {
    const c = new TestCluster(init);
    this.#clusters.set(init.name, c);
    return c;
  }

  get(name: string): TestCluster | undefined {
    return this.#clusters.get(name);
  }

  close(): void {
    for (const c of this.#clusters.values()) c.close();
  }
}
