// Opens one upstream connection (TCP, or TLS with the caller's options) within a connect timeout.

import net from 'node:net';
import tls from 'node:tls';
import type { Clock } from '../../../shared/clock.js';
import { UpstreamError } from './errors.js';

/** Where to connect. */
export interface Endpoint {
  host: string;
  port: number;
}

export interface ConnectOptions {
  endpoint: Endpoint;
  /** TLS client options (certificates, CA, SNI, ALPN, checkServerIdentity); plain TCP when absent. */
  tls?: tls.ConnectionOptions | undefined;
  /** Covers TCP connect and the TLS handshake, as Envoy's connect_timeout does. */
  timeoutMs: number;
  clock: Clock;
  /** TCP keep-alive probe delay (upstream_connection_options.tcp_keepalive); off when absent. */
  tcpKeepAliveMs?: number | undefined;
  /** Source address to bind (upstream_bind_config; Istio's 127.0.0.6 for inbound passthrough). */
  localAddress?: string | undefined;
  /** Keep the socket writable after the peer's FIN (tcp_proxy forwards half-closes); default false. */
  allowHalfOpen?: boolean | undefined;
}

export function endpointName(endpoint: Endpoint): string {
  return endpoint.host.includes(':')
    ? `[${endpoint.host}]:${endpoint.port}`
    : `${endpoint.host}:${endpoint.port}`;
}

/** Resolves with a connected (and, for TLS, handshaken) socket, or rejects with an UpstreamError (UF). */
export function connectEndpoint(opts: ConnectOptions): Promise<net.Socket> {
  const name = endpointName(opts.endpoint);
  return new Promise((resolve, reject) => {
    const local = {
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      ...(opts.allowHalfOpen ? { allowHalfOpen: true } : {}),
    };
    const socket = opts.tls
      ? tls.connect({ ...opts.tls, ...local, host: opts.endpoint.host, port: opts.endpoint.port })
      : net.connect({ ...local, host: opts.endpoint.host, port: opts.endpoint.port });
    const ready = opts.tls ? 'secureConnect' : 'connect';
    let settled = false;
    const timer = opts.clock.setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(
        new UpstreamError({
          code: 'UPSTREAM_CONNECT_TIMEOUT',
          flag: 'UF',
          endpoint: name,
          message: `connect to ${name} timed out after ${opts.timeoutMs}ms${opts.tls ? ' (TCP + TLS handshake)' : ''}`,
        }),
      );
    }, opts.timeoutMs);
    timer.unref?.();
    const onError = (err: Error) => {
      if (settled) return;
      settled = true;
      opts.clock.clearTimeout(timer);
      socket.destroy();
      const code = (err as NodeJS.ErrnoException).code;
      reject(
        new UpstreamError({
          code: 'UPSTREAM_CONNECT_FAILURE',
          flag: 'UF',
          endpoint: name,
          message: `connect to ${name} failed: ${code ?? err.message}${code ? ` (${err.message})` : ''}`,
          cause: err,
        }),
      );
    };
    socket.once('error', onError);
    socket.once('close', () => onError(new Error('connection closed during connect')));
    socket.once(ready, () => {
      if (settled) return;
      settled = true;
      opts.clock.clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.removeAllListeners('close');
      socket.setNoDelay(true);
      if (opts.tcpKeepAliveMs !== undefined) socket.setKeepAlive(true, opts.tcpKeepAliveMs);
      resolve(socket);
    });
  });
}
