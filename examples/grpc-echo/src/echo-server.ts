// The gRPC echo server: unary Echo and server-streaming StreamEcho, answering with the pod's name and version.

import * as grpc from '@grpc/grpc-js';
import { type EchoRequest, type EchoResponse, echoServiceDefinition } from './echo-service.js';

export interface EchoServerOptions {
  hostname: string;
  version: string;
  log?: (line: string) => void;
}

/** Most responses a StreamEcho call may ask for, so a typo cannot flood a test. */
export const MAX_STREAM_COUNT = 1000;

export function createEchoServer(opts: EchoServerOptions): grpc.Server {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const reply = (req: EchoRequest, index: number): EchoResponse => ({
    message: req.message,
    hostname: opts.hostname,
    version: opts.version,
    index,
  });
  const failure = (req: EchoRequest): grpc.ServiceError | undefined =>
    req.failCode > 0 && req.failCode <= 16
      ? Object.assign(new Error(`failed on request (fail_code ${req.failCode})`), {
          code: req.failCode,
          details: `failed on request (fail_code ${req.failCode})`,
          metadata: new grpc.Metadata(),
        })
      : undefined;

  const server = new grpc.Server();
  server.addService(echoServiceDefinition, {
    echo: (
      call: grpc.ServerUnaryCall<EchoRequest, EchoResponse>,
      callback: grpc.sendUnaryData<EchoResponse>,
    ) => {
      log(`Echo message=${JSON.stringify(call.request.message)} peer=${call.getPeer()}`);
      const err = failure(call.request);
      if (err) callback(err);
      else callback(null, reply(call.request, 0));
    },
    streamEcho: (call: grpc.ServerWritableStream<EchoRequest, EchoResponse>) => {
      const req = call.request;
      log(`StreamEcho message=${JSON.stringify(req.message)} count=${req.count} peer=${call.getPeer()}`);
      const err = failure(req);
      if (err) {
        call.emit('error', err);
        return;
      }
      const count = Math.min(Math.max(1, req.count), MAX_STREAM_COUNT);
      let index = 0;
      let timer: NodeJS.Timeout | undefined;
      const next = () => {
        if (call.cancelled) return;
        call.write(reply(req, index++));
        if (index >= count) call.end();
        else timer = setTimeout(next, Math.max(0, req.intervalMs));
      };
      call.on('cancelled', () => clearTimeout(timer));
      next();
    },
  });
  return server;
}

/** Binds without TLS (the sidecar does mTLS) and resolves with the port actually bound. */
export function listenEchoServer(server: grpc.Server, host: string, port: number): Promise<number> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
}
