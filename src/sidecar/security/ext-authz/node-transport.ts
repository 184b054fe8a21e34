// A direct ext_authz transport over node:http and grpc-js, resolving each cluster to one endpoint.

import { request as httpRequest } from 'node:http';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { TrellisError } from '../../../shared/errors.js';
import {
  Authorization,
  type CheckRequest,
  CheckRequestSchema,
  type CheckResponse,
} from '../../../xds/gen/envoy/service/auth/v3/external_auth_pb.js';
import { grpcServiceDefinition } from '../../../xds/grpc.js';
import type { HeaderValue } from '../header-edits.js';
import type {
  ExtAuthzTransport,
  GrpcCheckRequest,
  HttpCheckRequest,
  HttpCheckResponse,
} from './transport.js';

export interface Endpoint {
  host: string;
  port: number;
}

export interface NodeExtAuthzTransportOptions {
  /** The endpoint of a cluster, or undefined when the cluster is unknown (the check then fails). */
  resolve(cluster: string): Endpoint | undefined;
  /** gRPC channel credentials; plaintext by default. */
  grpcCredentials?: grpc.ChannelCredentials;
}

const AuthorizationClient = grpc.makeGenericClientConstructor(
  grpcServiceDefinition(Authorization),
  'Authorization',
);

type CheckMethod = (
  req: CheckRequest,
  options: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: CheckResponse) => void,
) => grpc.ClientUnaryCall;

export class NodeExtAuthzTransport implements ExtAuthzTransport {
  readonly #opts: NodeExtAuthzTransportOptions;
  readonly #grpcClients = new Map<string, grpc.Client>();

  constructor(opts: NodeExtAuthzTransportOptions) {
    this.#opts = opts;
  }

  #endpoint(cluster: string): Endpoint {
    const endpoint = this.#opts.resolve(cluster);
    if (!endpoint)
      throw new TrellisError('EXT_AUTHZ_NO_CLUSTER', `ext_authz cluster "${cluster}" is unknown`);
    return endpoint;
  }

  httpCheck(req: HttpCheckRequest): Promise<HttpCheckResponse> {
    return new Promise((resolve, reject) => {
      let endpoint: Endpoint;
      try {
        endpoint = this.#endpoint(req.cluster);
      } catch (e) {
        reject(e);
        return;
      }
      const headers: Record<string, string | string[]> = {};
      for (const { name, value } of req.headers) {
        const existing = headers[name];
        headers[name] =
          existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
      }
      const call = httpRequest({
        host: endpoint.host,
        port: endpoint.port,
        method: req.method,
        path: req.path,
        headers,
        agent: false,
      });
      const timer = setTimeout(() => {
        call.destroy(
          new TrellisError(
            'EXT_AUTHZ_TIMEOUT',
            `ext_authz cluster "${req.cluster}" did not answer within ${req.timeoutMs} ms`,
          ),
        );
      }, req.timeoutMs);
      call.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      call.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        res.on('end', () => {
          clearTimeout(timer);
          const out: HeaderValue[] = [];
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
            out.push({ name: res.rawHeaders[i]!.toLowerCase(), value: res.rawHeaders[i + 1]! });
          }
          resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks) });
        });
      });
      call.end();
    });
  }

  grpcCheck(req: GrpcCheckRequest): Promise<CheckResponse> {
    return new Promise((resolve, reject) => {
      let client: grpc.Client;
      try {
        client = this.#client(req.cluster);
      } catch (e) {
        reject(e);
        return;
      }
      const check = (client as unknown as { check: CheckMethod }).check.bind(client);
      check(create(CheckRequestSchema, req.request), { deadline: Date.now() + req.timeoutMs }, (err, res) => {
        if (err || !res) {
          reject(
            new TrellisError(
              'EXT_AUTHZ_GRPC',
              `ext_authz cluster "${req.cluster}": ${err ? `${grpc.status[err.code]}: ${err.details}` : 'empty answer'}`,
              { grpcCode: err?.code },
              { cause: err },
            ),
          );
        } else resolve(res);
      });
    });
  }

  #client(cluster: string): grpc.Client {
    const endpoint = this.#endpoint(cluster);
    const target = `${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
    let client = this.#grpcClients.get(target);
    if (!client) {
      client = new AuthorizationClient(
        target,
        this.#opts.grpcCredentials ?? grpc.credentials.createInsecure(),
      );
      this.#grpcClients.set(target, client);
    }
    return client;
  }

  close(): void {
    for (const c of this.#grpcClients.values()) c.close();
    this.#grpcClients.clear();
  }
}
