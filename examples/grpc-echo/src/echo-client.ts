// A typed client for the gRPC echo service, for tests and the `client.js` command.

import * as grpc from '@grpc/grpc-js';
import {
  decodeEchoResponse,
  ECHO_PATH,
  type EchoRequest,
  type EchoResponse,
  encodeEchoRequest,
  STREAM_ECHO_PATH,
} from './echo-service.js';

export interface CallOptions {
  /** Deadline for the call, from now. */
  timeoutMs?: number;
  /** Request metadata (headers), e.g. `{ 'end-user': 'jason' }` for header-based routing. */
  metadata?: Record<string, string>;
}

export class EchoClient {
  readonly #client: grpc.Client;

  /** `target` is any grpc-js target: `127.0.0.1:7070`, `dns:///grpc-echo:7070`, `xds:///grpc-echo:7070`. */
  constructor(target: string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()) {
    this.#client = new grpc.Client(target, credentials);
  }

  echo(req: Partial<EchoRequest>, opts: CallOptions = {}): Promise<EchoResponse> {
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        ECHO_PATH,
        encodeEchoRequest,
        decodeEchoResponse,
        req,
        toMetadata(opts.metadata),
        callOptions(opts),
        (err, value) => (err || !value ? reject(err) : resolve(value)),
      );
    });
  }

  /** Collects every response of a StreamEcho call; rejects with the call's status if it fails. */
  streamEcho(req: Partial<EchoRequest>, opts: CallOptions = {}): Promise<EchoResponse[]> {
    return new Promise((resolve, reject) => {
      const out: EchoResponse[] = [];
      const call = this.#client.makeServerStreamRequest(
        STREAM_ECHO_PATH,
        encodeEchoRequest,
        decodeEchoResponse,
        req,
        toMetadata(opts.metadata),
        callOptions(opts),
      );
      call.on('data', (m: EchoResponse) => out.push(m));
      call.on('error', reject);
      call.on('end', () => resolve(out));
    });
  }

  close(): void {
    this.#client.close();
  }
}

function toMetadata(entries: Record<string, string> | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(entries ?? {})) md.add(k, v);
  return md;
}

function callOptions(opts: CallOptions): grpc.CallOptions {
  return opts.timeoutMs === undefined ? {} : { deadline: Date.now() + opts.timeoutMs };
}
