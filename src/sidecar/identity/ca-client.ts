// Calls the mesh CA's IstioCertificateService/CreateCertificate over TLS, as istio-agent does.

import { isIP } from 'node:net';
import { create } from '@bufbuild/protobuf';
import {
  type ChannelOptions,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { TrellisError } from '../../shared/errors.js';
import {
  type IstioCertificateRequest,
  IstioCertificateRequestSchema,
  type IstioCertificateResponse,
  IstioCertificateService,
} from '../../xds/gen/istio/v1/auth/istioca_pb.js';
import { grpcServiceDefinition } from '../../xds/grpc.js';

export interface CertificateCall {
  csrPem: string;
  /** 0 lets the CA choose (24 h by default). */
  validitySeconds: number;
  /** Sent as `authorization: Bearer <token>`. */
  token?: string;
  /** PEM roots the CA's serving certificate must chain to. */
  caRootsPem: string;
  /** The current certificate, presented as a TLS client certificate on renewals. */
  clientCertificate?: { certChainPem: string; privateKeyPem: string };
}

/** Asks a CA for a certificate chain (Istio's layout: leaf first, roots last). */
export interface CaClient {
  createCertificate(call: CertificateCall): Promise<string[]>;
}

export interface GrpcCaClientOptions {
  /** `host:port` of the CA (the control plane's 15012). */
  address: string;
  /**
   * Name to verify the CA's certificate against. Default: the address's host, or Istio's
   * `istiod.istio-system.svc` when that is an IP (TLS SNI cannot carry an IP, RFC 6066).
   */
  serverName?: string;
  timeoutMs?: number;
}

/** The first DNS name in the CA's serving certificate. */
const ISTIOD_NAME = 'istiod.istio-system.svc';

function hostOf(address: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(address);
  if (bracketed) return bracketed[1]!;
  const colon = address.lastIndexOf(':');
  return colon > 0 && address.indexOf(':') === colon ? address.slice(0, colon) : address;
}

const Client = makeGenericClientConstructor(
  grpcServiceDefinition(IstioCertificateService),
  'IstioCertificateService',
);
type CreateCertificateFn = (
  req: IstioCertificateRequest,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (err: ServiceError | null, res?: IstioCertificateResponse) => void,
) => void;

/**
 * A channel per call: renewals are rare, and each call may present a new client certificate and
 * trust a new bundle.
 */
export class GrpcCaClient implements CaClient {
  readonly #opts: GrpcCaClientOptions;

  constructor(opts: GrpcCaClientOptions) {
    this.#opts = opts;
  }

  async createCertificate(call: CertificateCall): Promise<string[]> {
    const creds = credentials.createSsl(
      Buffer.from(call.caRootsPem),
      call.clientCertificate ? Buffer.from(call.clientCertificate.privateKeyPem) : null,
      call.clientCertificate ? Buffer.from(call.clientCertificate.certChainPem) : null,
    );
    const serverName = this.#opts.serverName ?? (isIP(hostOf(this.#opts.address)) ? ISTIOD_NAME : undefined);
    const channelOptions: ChannelOptions = serverName
      ? { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName }
      : {};
    const client = new Client(this.#opts.address, creds, channelOptions);
    const metadata = new Metadata();
    if (call.token) metadata.set('authorization', `Bearer ${call.token}`);
    const request = create(IstioCertificateRequestSchema, {
      csr: call.csrPem,
      validityDuration: BigInt(Math.max(0, Math.round(call.validitySeconds))),
    });
    const deadline = new Date(Date.now() + (this.#opts.timeoutMs ?? 10_000));
    try {
      const response = await new Promise<IstioCertificateResponse>((resolve, reject) => {
        (client as unknown as { createCertificate: CreateCertificateFn }).createCertificate(
          request,
          metadata,
          { deadline },
          (err, res) => (err ? reject(err) : resolve(res!)),
        );
      });
      return response.certChain;
    } catch (e) {
      const err = e as ServiceError;
      const unreachable = err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED;
      throw new TrellisError(
        unreachable ? 'CA_UNAVAILABLE' : 'CA_REFUSED',
        `CA at ${this.#opts.address} ${unreachable ? 'is unreachable' : 'refused the request'}: ${status[err.code] ?? err.code} ${err.details ?? err.message}`,
        { grpcCode: err.code },
        { cause: e },
      );
    } finally {
      client.close();
    }
  }
}
