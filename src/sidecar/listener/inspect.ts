// The listener filters tls_inspector and http_inspector: peek at a connection's first bytes without consuming them.

import type { Socket } from 'node:net';
import type { Clock } from '../../shared/clock.js';
import { MAX_CLIENT_HELLO_BYTES, parseClientHello } from './client-hello.js';
import { detectHttp } from './http-detect.js';

export interface InspectOptions {
  tls: boolean;
  http: boolean;
  /** listener_filters_timeout; 0 waits for ever (Envoy's meaning of 0). */
  timeoutMs: number;
  clock: Clock;
}

export interface Inspection {
  /** `tls` when a ClientHello was seen; undefined means raw bytes (Envoy's `raw_buffer`). */
  transportProtocol?: 'tls';
  serverName?: string;
  /** The ClientHello's ALPN offer, or `http/1.0`, `http/1.1`, `h2c` from the HTTP inspector. */
  applicationProtocols?: string[];
  /** Nothing decisive arrived before the timeout (a server-first protocol, or a silent client). */
  timedOut: boolean;
  /** What the HTTP inspector concluded, for stats. */
  http?: 'http/1.0' | 'http/1.1' | 'h2c' | 'not-http';
}

/**
 * Reads until the listener filters can decide, then puts every byte back (`unshift`) so the chain that is
 * chosen sees the connection from its first byte. Resolves undefined when the client closed or reset the
 * connection before anything could be decided (the socket is then destroyed).
 *
 * Bytes are taken with `read()` from 'readable' rather than from 'data' events: when a client's last bytes
 * and its FIN arrive together, the decision and the `unshift` then happen before 'end' is emitted, which is
 * what makes the bytes (and the half-close after them) reach the next owner of the socket.
 */
export function inspect(socket: Socket, opts: InspectOptions): Promise<Inspection | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let done = false;
    const timer =
      opts.timeoutMs > 0
        ? opts.clock.setTimeout(() => finish({ timedOut: true }), opts.timeoutMs)
        : undefined;
    const cleanup = () => {
      done = true;
      if (timer) opts.clock.clearTimeout(timer);
      socket.removeListener('readable', onReadable);
      socket.removeListener('end', onEnd);
      socket.removeListener('error', onError);
      socket.removeListener('close', onEnd);
    };
    const finish = (result: Inspection) => {
      if (done) return;
      cleanup();
      if (length > 0) socket.unshift(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
      resolve(result);
    };
    const gone = () => {
      if (done) return;
      cleanup();
      socket.destroy();
      resolve(undefined);
    };
    const onEnd = () => gone();
    const onError = () => gone();
    const onReadable = () => {
      let chunk: Buffer | null;
      let got = false;
      // biome-ignore lint/suspicious/noAssignInExpressions: the stream idiom for draining a readable
      while ((chunk = socket.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        length += chunk.length;
        got = true;
      }
      if (!got) return;
      const result = decide(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length), opts);
      if (result) finish(result);
    };
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
  });
}

function decide(data: Buffer, opts: InspectOptions): Inspection | undefined {
  if (opts.tls) {
    const hello = parseClientHello(data);
    if (hello.kind === 'incomplete') return undefined;
    if (hello.kind === 'tls') {
      const out: Inspection = { transportProtocol: 'tls', timedOut: false };
      if (hello.serverName) out.serverName = hello.serverName;
      if (hello.alpn.length > 0) out.applicationProtocols = hello.alpn;
      return out;
    }
  }
  if (!opts.http) return { timedOut: false };
  const http = detectHttp(data);
  if (http === 'incomplete') return data.length >= MAX_CLIENT_HELLO_BYTES ? { timedOut: false } : undefined;
  if (http === 'not-http') return { timedOut: false, http };
  return { timedOut: false, http, applicationProtocols: [http] };
}
