// A gRPC client of Envoy's RLS API with a deadline per call.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { TrellisError } from '../../shared/errors.js';
import {
  type RateLimitRequest,
  RateLimitRequestSchema,
  type RateLimitResponse,
  RateLimitService,
} from '../../xds/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { grpcServiceDefinition } from '../../xds/grpc.js';

/** What the filter needs from a rate limit service; tests and other transports can implement it. */
export interface RateLimitClient {
  shouldRateLimit(
    req: MessageInitShape<typeof RateLimitRequestSchema>,
    timeoutMs: number,
  ): Promise<RateLimitResponse>;
  close(): void;
}

type UnaryMethod = (
  req: RateLimitRequest,
  options: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: RateLimitResponse) => void,
) => grpc.ClientUnaryCall;

const ServiceClient = grpc.makeGenericClientConstructor(
  grpcServiceDefinition(RateLimitService),
  'RateLimitService',
);

export interface GrpcRateLimitClientOptions {
  /** `host:port` of the service (the sidecar resolves the configured cluster to an endpoint). */
  target: string;
  /** Plaintext unless given (mTLS credentials come from the sidecar's identity). */
  credentials?: grpc.ChannelCredentials;
  /** `:authority` to send (`envoy_grpc.authority`). */
  authority?: string;
}

export class GrpcRateLimitClient implements RateLimitClient {
  readonly #client: grpc.Client;
  readonly #target: string;

  constructor(opts: GrpcRateLimitClientOptions) {
    this.#target = opts.target;
    const options: grpc.ClientOptions = {};
    if (opts.authority) options['grpc.default_authority'] = opts.authority;
    this.#client = new ServiceClient(
      opts.target,
      opts.credentials ?? grpc.credentials.createInsecure(),
      options,
    );
  }

  shouldRateLimit(
    req: MessageInitShape<typeof RateLimitRequestSchema>,
    timeoutMs: number,
  ): Promise<RateLimitResponse> {
    const method = (this.#client as unknown as { shouldRateLimit: UnaryMethod }).shouldRateLimit.bind(
      this.#client,
    );
    return new Promise((resolve, reject) => {
      method(create(RateLimitRequestSchema, req), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err || !res) {
          reject(
            new TrellisError(
              'RLS_ERROR',
              `rate limit service ${this.#target}: ${err ? `${grpc.status[err.code]}: ${err.details}` : 'empty answer'}`,
              { grpcCode: err?.code },
              { cause: err },
            ),
          );
        } else resolve(res);
      });
    });
  }

  close(): void {
    this.#client.close();
  }
}
