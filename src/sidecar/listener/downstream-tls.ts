// TLS termination for a filter chain's DownstreamTlsContext: mesh mTLS from the agent's secrets, or gateway files.

import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { TrellisError } from '../../shared/errors.js';
import type { DownstreamTls } from '../config/model.js';
import type { SecretsSource } from '../identity/identity-agent.js';
import { MeshTls } from '../identity/mesh-tls.js';

export interface DownstreamTlsDeps {
  /** The workload's secrets; undefined when the sidecar has no identity. */
  secrets?: SecretsSource;
  readFile?: (path: string) => string;
  /** A handshake that takes longer fails (a client that connects and never finishes). Default 10 s. */
  handshakeTimeoutMs?: number;
}

type Pending = { resolve: (s: tls.TLSSocket) => void; reject: (e: Error) => void };

/**
 * One `tls.Server` per filter chain, never listening: accepted (and already inspected) sockets are handed to
 * it with `emit('connection')`, which is the only way Node enforces `rejectUnauthorized` on the server side.
 * The TLSSocket it makes is matched back to our raw socket through its `_parent`.
 */
export class TlsTerminator {
  readonly #server: tls.Server;
  readonly #pending = new WeakMap<Socket, Pending>();
  readonly #detach: (() => void) | undefined;

  constructor(config: DownstreamTls, where: string, deps: DownstreamTlsDeps) {
    const handshakeTimeout = deps.handshakeTimeoutMs ?? 10_000;
    const mesh = config.certificateSecret !== undefined || config.validationSecret !== undefined;
    if (mesh && !deps.secrets?.current()) {
      throw new TrellisError(
        'DOWNSTREAM_NO_IDENTITY',
        `${where} terminates mesh mTLS, but the sidecar has no workload certificate (no \`ca\` in the bootstrap, or the CA has not answered yet)`,
      );
    }
    if (mesh && config.certificateSecret && config.validationSecret && config.requireClientCertificate) {
      const meshTls = new MeshTls(deps.secrets!);
      this.#server = meshTls.createServer({ alpnProtocols: config.alpn });
      this.#detach = () => meshTls.close();
    } else {
      const build = () => serverOptions(config, where, deps);
      this.#server = tls.createServer(build());
      this.#detach = deps.secrets?.subscribe(() => this.#server.setSecureContext(build()));
    }
    // biome-ignore lint/suspicious/noExplicitAny: handshakeTimeout is writable but not in the typings
    (this.#server as any).handshakeTimeout = handshakeTimeout;
    this.#server.on('secureConnection', (s: tls.TLSSocket) => {
      const raw = parentOf(s);
      const p = raw && this.#pending.get(raw);
      if (!p || !raw) {
        s.destroy();
        return;
      }
      this.#pending.delete(raw);
      // tcp_proxy forwards half-closes; Node's server TLSSockets do not allow them by default.
      (s as unknown as { allowHalfOpen: boolean }).allowHalfOpen = true;
      p.resolve(s);
    });
    this.#server.on('tlsClientError', (err: Error, s: tls.TLSSocket) => {
      const raw = parentOf(s);
      const p = raw && this.#pending.get(raw);
      if (!p || !raw) return;
      this.#pending.delete(raw);
      p.reject(err);
    });
  }

  /** The handshake's TLS socket; rejects when the client's certificate or ALPN is refused. */
  terminate(raw: Socket): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      this.#pending.set(raw, { resolve, reject });
      const onClose = () => {
        const p = this.#pending.get(raw);
        if (!p) return;
        this.#pending.delete(raw);
        p.reject(
          new TrellisError('DOWNSTREAM_TLS_CLOSED', 'client closed the connection during the TLS handshake'),
        );
      };
      raw.once('close', onClose);
      // A half-open raw socket hides the client's FIN from the handshake, which then waits for ever for a
      // client that gave up; half-close is allowed again on the TLS socket once the handshake is done.
      (raw as unknown as { allowHalfOpen: boolean }).allowHalfOpen = false;
      this.#server.emit('connection', raw);
    });
  }

  close(): void {
    this.#detach?.();
    this.#server.close(() => {});
  }
}

function parentOf(s: tls.TLSSocket): Socket | undefined {
  return (s as unknown as { _parent?: Socket })._parent;
}

function serverOptions(config: DownstreamTls, where: string, deps: DownstreamTlsDeps): tls.TlsOptions {
  const read = deps.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const file = (path: string) => {
    try {
      return read(path);
    } catch (e) {
      throw new TrellisError(
        'DOWNSTREAM_TLS_FILE',
        `${where}: cannot read TLS file ${path}: ${(e as Error).message}`,
      );
    }
  };
  const secrets = deps.secrets?.current();
  const opts: tls.TlsOptions = {
    minVersion: config.minimumProtocol === 'TLSv1_3' ? 'TLSv1.3' : 'TLSv1.2',
    maxVersion: config.maximumProtocol === 'TLSv1_3' ? 'TLSv1.3' : 'TLSv1.2',
    ALPNProtocols: [...config.alpn],
  };
  if (config.certificateSecret && secrets) {
    opts.cert = secrets.default.certChainPem;
    opts.key = secrets.default.privateKeyPem;
  } else if (config.certificateFile) {
    opts.cert = file(config.certificateFile.certChain);
    opts.key = file(config.certificateFile.privateKey);
  }
  let ca: string | undefined;
  if (config.validationSecret && secrets) ca = secrets.rootCa.pem;
  else if (config.trustedCaFile) ca = file(config.trustedCaFile);
  if (ca) {
    opts.ca = ca;
    opts.requestCert = true;
    opts.rejectUnauthorized = config.requireClientCertificate;
  }
  return opts;
}
