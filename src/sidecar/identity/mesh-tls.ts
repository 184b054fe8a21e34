// TLS contexts for the data path: mutual TLS 1.3 against the mesh bundle, secure naming, session reuse.

import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import { TrellisError } from '../../shared/errors.js';
import type { SecretsSource } from './identity-agent.js';
import { peerIdentity, rememberPeerIdentity } from './peer-identity.js';
import type { WorkloadSecrets } from './secrets.js';
import { secureNamingCheck } from './secure-naming.js';

/** Istio's inbound ALPN offer: peer metadata exchange, Istio mTLS, then the application protocols. */
export const DEFAULT_INBOUND_ALPN: readonly string[] = ['istio-peer-exchange', 'istio', 'h2', 'http/1.1'];

export interface InboundTlsOptions {
  alpnProtocols?: readonly string[];
}

export interface OutboundTlsOptions {
  /** SPIFFE IDs (or Istio principals) allowed to serve this destination. Empty refuses every server. */
  allowedIdentities: readonly string[];
  alpnProtocols?: readonly string[];
  /** SNI to send (Istio: `outbound_.9080_._.reviews.default.svc.cluster.local`); never checked against the cert. */
  servername?: string;
  /** Names the destination in secure-naming errors. */
  destination?: string;
  /** Sessions are only reused under the same key; default: host:port plus the allowed identities. */
  sessionKey?: string;
}

interface CachedSession {
  session: Buffer;
  identity: string;
}

/** Server session lifetime: short, so a resumed session never leans long on an old verification. */
const SESSION_TIMEOUT_S = 300;

/**
 * Builds Node TLS options from the current workload secrets. A rotation only affects connections made
 * afterwards: existing sockets keep the context they were made with.
 */
export class MeshTls {
  readonly #source: SecretsSource;
  readonly #maxSessions: number;
  readonly #sessions = new Map<string, CachedSession>();
  readonly #unsubscribe: () => void;
  #clientCtx: { version: number; ctx: tls.SecureContext } | undefined;
  #ticketKeys = randomBytes(48);
  #bundlePem: string | undefined;

  constructor(source: SecretsSource, opts?: { maxCachedSessions?: number }) {
    this.#source = source;
    this.#maxSessions = opts?.maxCachedSessions ?? 1024;
    this.#bundlePem = source.current()?.rootCa.pem;
    this.#unsubscribe = source.subscribe((s) => this.#rotated(s));
  }

  /** Options for `tls.createServer` / `server.setSecureContext` (the server requires a client cert). */
  serverOptions(opts?: InboundTlsOptions): tls.TlsOptions {
    const s = this.#secrets();
    return {
      cert: s.default.certChainPem,
      key: s.default.privateKeyPem,
      ca: s.rootCa.pem,
      minVersion: 'TLSv1.3',
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: [...(opts?.alpnProtocols ?? DEFAULT_INBOUND_ALPN)],
      ticketKeys: this.#ticketKeys,
      sessionTimeout: SESSION_TIMEOUT_S,
    };
  }

  /**
   * A TLS server that follows rotations (`setSecureContext`) until it closes. A listener that accepts
   * raw sockets itself (capture, protocol sniffing) hands them over with
   * `server.emit('connection', socket)` without ever calling `listen`; never wrap an accepted socket
   * in `new tls.TLSSocket(…)` directly: Node checks `rejectUnauthorized` for server sockets only
   * inside tls.Server, so a bare TLSSocket accepts a client certificate from any CA.
   */
  createServer(opts: InboundTlsOptions, listener?: (socket: tls.TLSSocket) => void): tls.Server {
    const server = tls.createServer(this.serverOptions(opts), listener);
    const detach = this.#source.subscribe(() => server.setSecureContext(this.serverOptions(opts)));
    server.once('close', detach);
    return server;
  }

  /**
   * Options for `tls.connect`: our certificate, verification against the bundle, and secure naming
   * in place of the DNS check. Includes a cached session when one exists; pass the socket to
   * `track()` so new sessions are cached and the peer identity survives resumption.
   */
  clientOptions(opts: OutboundTlsOptions & { host?: string; port?: number }): tls.ConnectionOptions {
    const key = this.#sessionKey(opts);
    const cached = this.#sessions.get(key);
    return {
      secureContext: this.#clientContext(),
      minVersion: 'TLSv1.3',
      rejectUnauthorized: true,
      checkServerIdentity: secureNamingCheck(opts.allowedIdentities, opts.destination),
      ALPNProtocols: [...(opts.alpnProtocols ?? [])],
      ...(opts.servername ? { servername: opts.servername } : {}),
      ...(cached ? { session: cached.session } : {}),
    };
  }

  /**
   * Caches the sessions a client socket receives, and its peer identity for resumed connections.
   * Call it right after `tls.connect(clientOptions(opts))`, with the same `opts`.
   */
  track(socket: tls.TLSSocket, opts: OutboundTlsOptions & { host?: string; port?: number }): void {
    const key = this.#sessionKey(opts);
    const version = this.#source.current()?.version;
    // The session clientOptions() offered: the cache may be cleared by a rotation before the handshake ends.
    const offered = this.#sessions.get(key);
    let connected = false;
    let early: Buffer | undefined;
    const store = (session: Buffer) => {
      const identity = peerIdentity(socket);
      // A session made under older secrets would resume with our previous certificate.
      if (!identity || this.#source.current()?.version !== version) return;
      this.#sessions.delete(key);
      this.#sessions.set(key, { session, identity });
      if (this.#sessions.size > this.#maxSessions) this.#sessions.delete(this.#sessions.keys().next().value!);
    };
    socket.once('secureConnect', () => {
      connected = true;
      if (socket.isSessionReused() && offered) rememberPeerIdentity(socket, offered.identity);
      if (early) store(early);
    });
    // TLS 1.3 tickets may arrive before 'secureConnect', when the peer is not verified yet.
    socket.on('session', (session: Buffer) => {
      if (connected) store(session);
      else early = session;
    });
  }

  /** Connects with `clientOptions` and `track`. */
  connect(opts: OutboundTlsOptions & { host: string; port: number }): tls.TLSSocket {
    const socket = tls.connect({ ...this.clientOptions(opts), host: opts.host, port: opts.port });
    this.track(socket, opts);
    return socket;
  }

  close(): void {
    this.#unsubscribe();
    this.#sessions.clear();
  }

  #secrets(): WorkloadSecrets {
    const s = this.#source.current();
    if (!s)
      throw new TrellisError(
        'IDENTITY_NOT_READY',
        'no workload certificate yet: the identity agent has not been answered by the CA',
      );
    return s;
  }

  #clientContext(): tls.SecureContext {
    const s = this.#secrets();
    if (this.#clientCtx?.version !== s.version) {
      this.#clientCtx = {
        version: s.version,
        ctx: tls.createSecureContext({
          cert: s.default.certChainPem,
          key: s.default.privateKeyPem,
          ca: s.rootCa.pem,
          minVersion: 'TLSv1.3',
        }),
      };
    }
    return this.#clientCtx.ctx;
  }

  #sessionKey(opts: OutboundTlsOptions & { host?: string; port?: number }): string {
    if (opts.sessionKey) return opts.sessionKey;
    return `${opts.host ?? ''}:${opts.port ?? ''}|${opts.servername ?? ''}|${[...opts.allowedIdentities].sort().join(',')}`;
  }

  #rotated(s: WorkloadSecrets): void {
    // Sessions carry the old certificate (ours) and were verified under the old bundle: start over.
    this.#sessions.clear();
    if (s.rootCa.pem !== this.#bundlePem) {
      // New ticket keys, so that no peer resumes a session verified against a root we dropped.
      if (this.#bundlePem !== undefined) this.#ticketKeys = randomBytes(48);
      this.#bundlePem = s.rootCa.pem;
    }
  }
}
