// One filter chain made runnable: TLS termination, network RBAC, then the terminal HCM or tcp_proxy.

import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { Stat } from '../../telemetry/stats/stat.js';
import type { StatsStore } from '../../telemetry/stats/store.js';
import type { FilterChain, ListenerConfig } from '../config/model.js';
import { peerIdentity } from '../identity/peer-identity.js';
import type {
  DownstreamConnection,
  HttpConnectionManager,
  HttpConnectionManagerFactory,
  PipelineDeps,
} from '../runtime/contracts.js';
import { NetworkRbacChain } from '../security/network-chain.js';
import { peerCertificateFromSocket } from '../security/peer-certificate.js';
import { TcpProxy, type TcpProxyDeps } from '../tcp/tcp-proxy.js';
import { type DownstreamTlsDeps, TlsTerminator } from './downstream-tls.js';

export interface ChainRuntimeDeps {
  hcmFactory: HttpConnectionManagerFactory;
  pipeline: PipelineDeps;
  tcp: TcpProxyDeps;
  tls: DownstreamTlsDeps;
  stats: StatsStore;
  logger: Logger;
  /** `gateway` for router proxies; otherwise the listener's direction decides. */
  proxyType: 'sidecar' | 'gateway';
}

/** Where the connection came from and was going, as the listener established it. */
export interface AcceptedConnection {
  socket: Socket;
  destination: { address: string; port: number };
  source: { address: string; port: number };
  acceptedAt: number;
  serverName?: string;
}

interface RbacStats {
  allowed: Stat;
  denied: Stat;
  shadowAllowed: Stat;
  shadowDenied: Stat;
}

export class FilterChainRuntime {
  readonly chain: FilterChain;
  readonly #listener: ListenerConfig;
  readonly #deps: ChainRuntimeDeps;
  readonly #tls: TlsTerminator | undefined;
  readonly #rbac: NetworkRbacChain | undefined;
  readonly #rbacStats: RbacStats[] = [];
  readonly #hcm: HttpConnectionManager | undefined;
  readonly #tcp: TcpProxy | undefined;
  readonly #handshakeErrors: Stat;
  readonly #direction: DownstreamConnection['direction'];

  /** Throws when the chain cannot run (a mesh TLS chain without a certificate, an unreadable file). */
  constructor(listener: ListenerConfig, chain: FilterChain, deps: ChainRuntimeDeps) {
    this.chain = chain;
    this.#listener = listener;
    this.#deps = deps;
    const where = `Listener "${listener.name}" filter chain "${chain.name}"`;
    this.#direction =
      deps.proxyType === 'gateway' ? 'gateway' : listener.direction === 'inbound' ? 'inbound' : 'outbound';
    this.#handshakeErrors = deps.stats
      .scope('listener', listenerStatName(listener), 'envoy_listener_address')
      .counter('ssl.connection_error');
    this.#tls = chain.tls ? new TlsTerminator(chain.tls, where, deps.tls) : undefined;
    if (chain.networkFilters.length > 0) {
      this.#rbac = new NetworkRbacChain(chain.networkFilters, where);
      for (const f of chain.networkFilters) {
        const root = (f.statPrefix || 'tcp.').replace(/\.$/, '');
        const scope = deps.stats.scope(root);
        this.#rbacStats.push({
          allowed: scope.counter('rbac.allowed'),
          denied: scope.counter('rbac.denied'),
          shadowAllowed: scope.counter('rbac.shadow_allowed'),
          shadowDenied: scope.counter('rbac.shadow_denied'),
        });
      }
    }
    const terminal = chain.terminal;
    if (terminal.kind === 'http') this.#hcm = deps.hcmFactory(terminal.hcm, deps.pipeline);
    else this.#tcp = new TcpProxy(terminal.tcp, deps.tcp);
  }

  /** Takes the connection over; errors end in a closed connection and a log line, never a throw. */
  handle(conn: AcceptedConnection): void {
    if (!this.#tls) {
      this.#afterTls(conn, undefined);
      return;
    }
    this.#tls.terminate(conn.socket).then(
      (secure) => this.#afterTls(conn, secure),
      (e) => {
        this.#handshakeErrors.inc();
        this.#deps.logger.debug('TLS handshake refused', {
          listener: this.#listener.name,
          chain: this.chain.name,
          peer: `${conn.source.address}:${conn.source.port}`,
          error: errorMessage(e),
        });
        conn.socket.destroy();
      },
    );
  }

  /** Stops new requests on the HCM (connection: close / GOAWAY) and waits for what is in flight. */
  async drain(deadlineMs: number): Promise<void> {
    await Promise.all([this.#hcm?.drain(deadlineMs), this.#tcp?.drain(deadlineMs)]);
  }

  close(): void {
    this.#tls?.close();
    this.#tcp?.destroy();
  }

  #afterTls(conn: AcceptedConnection, secure: TLSSocket | undefined): void {
    // A reset while tcp_proxy is still connecting upstream must not go unhandled (the raw socket has its
    // listener from the accept; the TLS socket is a new object).
    secure?.on('error', () => {});
    const socket: Socket = secure ?? conn.socket;
    const tlsInfo = secure ? this.#tlsInfo(secure, conn) : undefined;
    if (this.#rbac && !this.#allowed(conn, secure)) {
      socket.destroy();
      return;
    }
    const downstream: DownstreamConnection = {
      socket,
      direction: this.#direction,
      listenerName: this.#listener.name,
      filterChainName: this.chain.name,
      destination: conn.destination,
      source: conn.source,
      acceptedAt: conn.acceptedAt,
      ...(tlsInfo && { tls: tlsInfo }),
    };
    try {
      if (this.#hcm) this.#hcm.serve(downstream);
      else this.#tcp!.handle(downstream);
    } catch (e) {
      this.#deps.logger.error('filter chain failed to take a connection', {
        listener: this.#listener.name,
        chain: this.chain.name,
        error: errorMessage(e),
      });
      socket.destroy();
    }
  }

  #tlsInfo(secure: TLSSocket, conn: AcceptedConnection): NonNullable<DownstreamConnection['tls']> {
    const info: Mutable<NonNullable<DownstreamConnection['tls']>> = {};
    const peer = peerIdentity(secure);
    if (peer) info.peerIdentity = peer;
    const cert = secure.getPeerCertificate();
    if (cert && Object.keys(cert).length > 0) info.peerCertificate = cert;
    const local = this.#deps.tls.secrets?.current()?.spiffeId;
    if (local && this.chain.tls?.certificateSecret) info.localIdentity = local;
    const sni = (secure as unknown as { servername?: string | false }).servername || conn.serverName;
    if (sni) info.sni = sni;
    if (secure.alpnProtocol) info.alpn = secure.alpnProtocol;
    return info;
  }

  #allowed(conn: AcceptedConnection, secure: TLSSocket | undefined): boolean {
    const verdict = this.#rbac!.checkConnection({
      directRemoteIp: conn.source.address,
      remoteIp: conn.source.address,
      destinationIp: conn.destination.address,
      destinationPort: conn.destination.port,
      requestedServerName: conn.serverName ?? '',
      peer: secure ? peerCertificateFromSocket(secure) : undefined,
      metadata: new Map(),
    });
    const filters = this.#rbac!.filters;
    filters.forEach((f, i) => {
      const s = this.#rbacStats[i];
      if (!s) return;
      s.allowed.set(f.stats.allowed);
      s.denied.set(f.stats.denied);
      s.shadowAllowed.set(f.stats.shadow_allowed);
      s.shadowDenied.set(f.stats.shadow_denied);
    });
    if (!verdict.allowed) {
      this.#deps.logger.debug('network RBAC denied a connection', {
        listener: this.#listener.name,
        chain: this.chain.name,
        filter: verdict.statPrefix,
        details: verdict.decision.details,
        peer: `${conn.source.address}:${conn.source.port}`,
      });
    }
    return verdict.allowed;
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Envoy's listener stat name: `0.0.0.0_15006`. */
export function listenerStatName(l: ListenerConfig): string {
  const a = l.address.address.includes(':') ? `[${l.address.address}]` : l.address.address;
  return `${a}_${l.address.port}`;
}
