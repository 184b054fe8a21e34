// Binds the listeners of each applied snapshot, and routes every accepted connection to its listener's runtime.

import net from 'node:net';
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { listenerForOriginalDestination } from '../config/match/listener.js';
import type { ListenerConfig, SidecarConfig } from '../config/model.js';
import { listenerStatName } from './chain-runtime.js';
import { ListenerRuntime, type ListenerRuntimeDeps } from './listener-runtime.js';
import { originalDestination, originalDstUnavailable } from './original-dst.js';

export interface ListenerManagerOptions extends ListenerRuntimeDeps {
  /** Listeners bound on a wildcard address (0.0.0.0, ::) bind here instead (host mode: the pod's address). */
  bindAddress?: string;
  /** How long a replaced or removed listener's connections may take to finish. */
  drainTimeoutMs: number;
}

interface Entry {
  runtime: ListenerRuntime;
  /** The listener as received (bytes); an identical resource in a new snapshot keeps its runtime. */
  fingerprint: Uint8Array | undefined;
}

interface Bound {
  server: net.Server;
  host: string;
  port: number;
  /** The runtime new connections go to (it changes when the listener is updated in place). */
  name: string;
}

/** What the admin and readiness read about bound sockets. */
export interface BoundListener {
  name: string;
  address: string;
  port: number;
  bound: boolean;
  error?: string;
}

export class ListenerManager {
  readonly #opts: ListenerManagerOptions;
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #bound = new Map<string, Bound>();
  readonly #errors = new Map<string, string>();
  readonly #retired = new Set<ListenerRuntime>();
  /** Every accepted socket still open, so that a shutdown can close what draining left behind. */
  readonly #sockets = new Set<net.Socket>();
  #socketsGone: (() => void) | undefined;
  #config: Pick<SidecarConfig, 'listenersByAddress'> | undefined;
  #accepting = true;
  #warnedNoOriginalDst = false;

  constructor(opts: ListenerManagerOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
  }

  /** True when `address:port` is one of our bound sockets (an ORIGINAL_DST cluster must not loop to it). */
  isSelf(address: string, port: number): boolean {
    for (const b of this.#bound.values()) {
      if (b.port !== port) continue;
      if (b.host === address || b.host === '0.0.0.0' || b.host === '::') return true;
    }
    return false;
  }

  listeners(): BoundListener[] {
    const out: BoundListener[] = [];
    for (const [name, e] of this.#entries) {
      const b = this.#bound.get(name);
      const error = this.#errors.get(name);
      out.push({
        name,
        address: b?.host ?? e.runtime.config.address.address,
        port: b?.port ?? e.runtime.config.address.port,
        bound: b !== undefined,
        ...(error && { error }),
      });
    }
    return out;
  }

  /**
   * Makes the bound sockets and runtimes match the snapshot. New connections use the new config; connections
   * already accepted keep the chains they were given, and a replaced or removed listener's connections drain.
   * Resolves when every socket that should be bound is bound (or failed, which is logged and reported).
   */
  async apply(
    config: Pick<SidecarConfig, 'listeners' | 'listenersByAddress'>,
    fingerprint?: (name: string) => Uint8Array | undefined,
  ): Promise<void> {
    this.#config = config;
    const binds: Promise<void>[] = [];
    for (const [name, l] of config.listeners) {
      if (l.apiListener) continue;
      const fp = fingerprint?.(name);
      const existing = this.#entries.get(name);
      const same =
        existing !== undefined &&
        (existing.runtime.config === l ||
          (fp !== undefined &&
            existing.fingerprint !== undefined &&
            Buffer.from(fp).equals(existing.fingerprint)));
      if (!same) {
        if (existing) this.#retire(existing.runtime);
        this.#entries.set(name, { runtime: new ListenerRuntime(l, this.#opts), fingerprint: fp });
      }
      const target = this.#entries.get(name)!.runtime.config;
      if (!target.bindToPort) {
        this.#unbind(name);
        continue;
      }
      const host = this.#bindHost(target);
      const port = target.address.port;
      const bound = this.#bound.get(name);
      if (bound && bound.host === host && bound.port === port) continue;
      if (bound) this.#unbind(name);
      if (this.#accepting) binds.push(this.#bind(name, host, port));
    }
    for (const [name, e] of [...this.#entries]) {
      const l = config.listeners.get(name);
      if (l && !l.apiListener) continue;
      this.#entries.delete(name);
      this.#unbind(name);
      this.#errors.delete(name);
      this.#retire(e.runtime);
    }
    await Promise.all(binds);
  }

  /** Closes every listening socket (drain, shutdown); accepted connections are untouched. */
  async stopAccepting(): Promise<void> {
    this.#accepting = false;
    for (const name of [...this.#bound.keys()]) this.#unbind(name);
  }

  /** Connections accepted and still open. */
  get openConnections(): number {
    return this.#sockets.size;
  }

  /**
   * Drains every runtime, current and retired, then waits for the connections still open (including ones
   * that were in a listener filter or TLS handshake when the drain began) and cuts what is left at the
   * deadline (monotonic ms).
   */
  async drain(deadlineMs: number): Promise<void> {
    const runtimes = [...[...this.#entries.values()].map((e) => e.runtime), ...this.#retired];
    await Promise.all(runtimes.map((r) => r.drain(deadlineMs)));
    if (this.#sockets.size === 0) return;
    const clock = this.#opts.clock;
    await new Promise<void>((resolve) => {
      const timer = clock.setTimeout(
        () => {
          this.#socketsGone = undefined;
          for (const s of this.#sockets) s.destroy();
          resolve();
        },
        Math.max(0, deadlineMs - clock.monotonic()),
      );
      this.#socketsGone = () => {
        clock.clearTimeout(timer);
        this.#socketsGone = undefined;
        resolve();
      };
    });
  }

  /** Final shutdown: nothing more is accepted and every chain lets go of its resources. */
  async close(): Promise<void> {
    await this.stopAccepting();
    for (const e of this.#entries.values()) e.runtime.close();
    for (const r of this.#retired) r.close();
    this.#retired.clear();
    for (const s of this.#sockets) s.destroy();
  }

  #bindHost(l: ListenerConfig): string {
    const a = l.address.address;
    const wildcard = a === '0.0.0.0' || a === '::';
    return wildcard && this.#opts.bindAddress ? this.#opts.bindAddress : a;
  }

  #bind(name: string, host: string, port: number): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.#accept(name, socket));
    const entry: Bound = { server, host, port, name };
    this.#bound.set(name, entry);
    return new Promise((resolve) => {
      const onError = (e: Error) => {
        if (this.#bound.get(name) === entry) this.#bound.delete(name);
        const message = `cannot bind ${host}:${port}: ${errorMessage(e)}`;
        this.#errors.set(name, message);
        this.#opts.stats.scope('listener_manager').counter('listener_create_failure').inc();
        this.#log.error('listener failed to bind', { listener: name, error: message });
        resolve();
      };
      server.once('error', onError);
      server.listen({ host, port }, () => {
        server.removeListener('error', onError);
        server.on('error', (e) =>
          this.#log.error('listener error', { listener: name, error: errorMessage(e) }),
        );
        this.#errors.delete(name);
        this.#log.debug('listener bound', { listener: name, address: `${host}:${port}` });
        resolve();
      });
    });
  }

  /** The listening socket closes at once; the server's 'close' would wait for every connection. */
  #unbind(name: string): void {
    const b = this.#bound.get(name);
    if (!b) return;
    this.#bound.delete(name);
    b.server.close();
  }

  #retire(runtime: ListenerRuntime): void {
    this.#retired.add(runtime);
    const deadline = this.#opts.clock.monotonic() + this.#opts.drainTimeoutMs;
    void runtime.drain(deadline).then(() => {
      runtime.close();
      this.#retired.delete(runtime);
    });
  }

  #accept(name: string, socket: net.Socket): void {
    // Every later owner adds its own handler; until then an early reset must not crash the process.
    socket.on('error', () => {});
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      if (this.#sockets.size === 0) this.#socketsGone?.();
    });
    const entry = this.#entries.get(name);
    if (!this.#accepting || !entry) {
      socket.destroy();
      return;
    }
    const l = entry.runtime.config;
    const local = { address: plainIp(socket.localAddress ?? ''), port: socket.localPort ?? 0 };
    const source = { address: plainIp(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    let destination = local;
    if (l.useOriginalDst || l.listenerFilters.originalDst) destination = this.#originalDst(socket) ?? local;
    let runtime = entry.runtime;
    if (l.useOriginalDst && this.#config) {
      const other = listenerForOriginalDestination(this.#config, destination.address, destination.port);
      const target = other && other.name !== l.name ? this.#entries.get(other.name) : undefined;
      if (target) runtime = target.runtime;
    }
    void runtime.dispatch({ socket, destination, source, acceptedAt: this.#opts.clock.now() }).catch((e) => {
      this.#log.error('connection dispatch failed', {
        listener: runtime.config.name,
        error: errorMessage(e),
      });
      socket.destroy();
    });
  }

  #originalDst(socket: net.Socket): { address: string; port: number } | undefined {
    try {
      const d = originalDestination(socket);
      return { address: plainIp(d.address), port: d.port };
    } catch (e) {
      if (!this.#warnedNoOriginalDst && originalDstUnavailable()) {
        this.#warnedNoOriginalDst = true;
        this.#log.warn('original destinations are unavailable; captured connections use the local address', {
          reason: originalDstUnavailable(),
        });
      } else {
        this.#log.debug('no original destination for a connection', { error: errorMessage(e) });
      }
      return undefined;
    }
  }
}

/** `::ffff:10.0.0.1` (a dual-stack socket's view of an IPv4 peer) is `10.0.0.1`. */
function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export { listenerStatName };
