// Serves Envoy's RLS API (`envoy.service.ratelimit.v3.RateLimitService`) over gRPC.

import * as grpc from '@grpc/grpc-js';
import { errorMessage } from '../shared/errors.js';
import { type Logger, silentLogger } from '../shared/log.js';
import type { RateLimitRequest, RateLimitResponse } from '../xds/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { RateLimitService } from '../xds/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { grpcServiceDefinition } from '../xds/grpc.js';
import { InvalidRateLimitRequest, type RateLimitDecider } from './service.js';

export interface RateLimitServerOptions {
  decider: RateLimitDecider;
  /** Default 0.0.0.0; tests bind 127.0.0.1. */
  host?: string;
  /** Default 8081 (the reference service's gRPC port); 0 picks a free port. */
  port?: number;
  logger?: Logger;
}

export interface RunningRateLimitServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startRateLimitServer(opts: RateLimitServerOptions): Promise<RunningRateLimitServer> {
  const logger = opts.logger ?? silentLogger;
  const host = opts.host ?? '0.0.0.0';
  const server = new grpc.Server();
  server.addService(grpcServiceDefinition(RateLimitService), {
    shouldRateLimit: (
      call: grpc.ServerUnaryCall<RateLimitRequest, RateLimitResponse>,
      callback: grpc.sendUnaryData<RateLimitResponse>,
    ) => {
      opts.decider.shouldRateLimit(call.request).then(
        (res) => callback(null, res),
        (e: unknown) => {
          const invalid = e instanceof InvalidRateLimitRequest;
          if (!invalid)
            logger.warn('rate limit request failed', { domain: call.request.domain, error: errorMessage(e) });
          callback({
            code: invalid ? grpc.status.INVALID_ARGUMENT : grpc.status.UNAVAILABLE,
            details: errorMessage(e),
          });
        },
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    const address = host.includes(':') ? `[${host}]:${opts.port ?? 8081}` : `${host}:${opts.port ?? 8081}`;
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
  return {
    host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}
