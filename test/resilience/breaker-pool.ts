// A minimal HTTP/1.1 pool for tests, built on the breaker pieces the way Envoy's pool uses its limits.

import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { ClusterCircuitBreakers } from '../../src/sidecar/upstream/breaker/circuit-breakers.js';
import { PendingQueue } from '../../src/sidecar/upstream/breaker/pending-queue.js';
import {
  breakerConnectionPolicy,
  type ConnectionPolicy,
} from '../../src/sidecar/upstream/breaker/pool-policy.js';

export interface PoolResult {
  status: number;
  /** Envoy response flag of a local reply. */
  flag?: 'UO';
}

/**
 * One connection per request (Istio's `maxRequestsPerConnection: 1`). A request with no connection
 * to use waits in the pending queue; when a connection closes the pool connects again for the next
 * waiter, which stays queued until that connection is up, as in Envoy.
 */
export class BreakerPool {
  readonly breakers: ClusterCircuitBreakers;
  readonly #port: number;
  readonly #policy: ConnectionPolicy;
  readonly #pending: PendingQueue<Socket>;
  #active = 0;
  #connecting = 0;

  constructor(opts: { port: number; breakers: ClusterCircuitBreakers }) {
    this.#port = opts.port;
    this.breakers = opts.breakers;
    this.#policy = breakerConnectionPolicy(opts.breakers.resources(), opts.breakers.counters);
    this.#pending = new PendingQueue({
      limit: opts.breakers.resources().pendingRequests,
      counters: opts.breakers.counters,
      cluster: opts.breakers.cluster,
    });
  }

  async request(path: string): Promise<PoolResult> {
    let socket: Socket;
    if (this.#policy.mayOpenConnection(this.#counters())) {
      socket = await this.#connect();
    } else {
      const waiting = this.#pending.wait();
      if (!waiting) return { status: 503, flag: 'UO' };
      socket = await waiting;
    }
    // max_requests is checked when the request gets its connection, as in Envoy's pool.
    const admitted = this.breakers.tryStartRequest();
    this.#active++;
    try {
      if (!admitted) return { status: 503, flag: 'UO' };
      return { status: await exchange(socket, path) };
    } finally {
      if (admitted) this.breakers.requestFinished();
      this.#active--;
      socket.destroy();
      this.#policy.connectionClosed();
      this.#servePending();
    }
  }

  #counters() {
    return { active: this.#active, idle: 0, connecting: this.#connecting, pending: this.#pending.length };
  }

  #servePending(): void {
    if (this.#pending.length === 0 || !this.#policy.mayOpenConnection(this.#counters())) return;
    this.#connect().then(
      (socket) => {
        if (!this.#pending.offer(socket)) {
          socket.destroy();
          this.#policy.connectionClosed();
        }
      },
      () => {},
    );
  }

  #connect(): Promise<Socket> {
    this.#connecting++;
    this.#policy.connectionOpened();
    return new Promise((resolve, reject) => {
      const socket = connect(this.#port, '127.0.0.1');
      socket.once('connect', () => {
        this.#connecting--;
        resolve(socket);
      });
      socket.once('error', (e) => {
        this.#connecting--;
        this.#policy.connectionClosed();
        reject(e);
      });
    });
  }
}

/** Sends one GET with `Connection: close` and resolves with the status once the response ends. */
function exchange(socket: Socket, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let head = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      if (head.length < 64) head += chunk;
    });
    socket.once('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)));
    socket.once('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: httpbin\r\nConnection: close\r\n\r\n`);
  });
}

/** A listener in front of the pool, so that clients see local replies after a real round trip. */
export async function startFront(pool: BreakerPool): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    pool.request(req.url ?? '/').then(
      (r) => {
        if (r.flag)
          res.setHeader(
            'x-trellis-reason',
            `${r.flag} upstream overflow in cluster "${pool.breakers.cluster}"`,
          );
        res.writeHead(r.status).end();
      },
      () => res.writeHead(503, { 'x-trellis-reason': 'UF upstream connect failure' }).end(),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** `fortio load -c <concurrency> -n <total> -qps 0` against the front: statuses and reasons. */
export async function load(
  url: string,
  concurrency: number,
  total: number,
): Promise<{ status: number; reason: string }[]> {
  const results: { status: number; reason: string }[] = [];
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      const res = await fetch(`${url}/get`);
      await res.arrayBuffer();
      results.push({ status: res.status, reason: res.headers.get('x-trellis-reason') ?? '' });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

export { ClusterCircuitBreakers };
