// Istio's IstioCertificateService/CreateCertificate: authenticate, check the CSR, sign, count every refusal.

import { create } from '@bufbuild/protobuf';
import type {
  Metadata,
  Server,
  ServerUnaryCall,
  ServiceDefinition,
  sendUnaryData,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { type Clock, systemClock } from '../../shared/clock.js';
import { type Logger, silentLogger } from '../../shared/log.js';
import {
  type IstioCertificateRequest,
  type IstioCertificateResponse,
  IstioCertificateResponseSchema,
  IstioCertificateService,
} from '../../xds/gen/istio/v1/auth/istioca_pb.js';
import { grpcServiceDefinition } from '../../xds/grpc.js';
import { type AuthenticatedCaller, authenticateCaller, type CallerCredentials } from './authenticate.js';
import { type BundleRollout, BundleRolloutTracker } from './bundle-rollout.js';
import { checkCsr } from './csr-checks.js';
import type { IssuedCertificate, MeshCa } from './mesh-ca.js';
import { CaMetrics, CertificateRefused } from './refusals.js';
import type { TokenVerifier } from './token-verifier.js';

export interface CertificateRequest {
  csr: string;
  /** Requested validity in seconds; 0 means the CA default. */
  validitySeconds: number;
  credentials: CallerCredentials;
}

export interface CertificateServiceOptions {
  ca: MeshCa;
  /** Defaults to the CA's own token verifier (tokens from the local runtime). */
  tokenVerifier?: TokenVerifier;
  clock?: Clock;
  logger?: Logger;
}

/** The transport-independent issuance path; `grpcHandlers()` mounts it on a grpc-js server. */
export class CertificateService {
  readonly metrics = new CaMetrics();
  readonly #rollout = new BundleRolloutTracker();
  readonly #ca: MeshCa;
  readonly #verifier: TokenVerifier;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(opts: CertificateServiceOptions) {
    this.#ca = opts.ca;
    this.#verifier = opts.tokenVerifier ?? opts.ca.tokenVerifier;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
  }

  /** Issues a certificate or throws CertificateRefused (already counted and logged). */
  async createCertificate(req: CertificateRequest): Promise<IssuedCertificate> {
    this.metrics.request();
    let caller: AuthenticatedCaller | undefined;
    try {
      caller = await authenticateCaller(req.credentials, {
        verifier: this.#verifier,
        trustDomain: this.#ca.trustDomain,
        clock: this.#clock,
      });
      const csr = await checkCsr(req.csr, caller.spiffeId);
      if (!Number.isFinite(req.validitySeconds) || req.validitySeconds < 0) {
        throw new CertificateRefused(
          'TTL_INVALID',
          `requested validity ${req.validitySeconds}s is negative or not a number`,
        );
      }
      let issued: IssuedCertificate;
      try {
        issued = await this.#ca.issueWorkloadCertificate({
          publicKey: csr.publicKey,
          identity: { namespace: caller.namespace, serviceAccount: caller.serviceAccount },
          ttlMs: req.validitySeconds * 1000,
        });
      } catch (e) {
        throw new CertificateRefused('CA_CANNOT_SIGN', `cannot sign: ${(e as Error).message}`, { cause: e });
      }
      this.metrics.issued();
      this.#rollout.record({
        spiffeId: issued.spiffeId,
        ...(caller.podUid ? { podUid: caller.podUid } : {}),
        ...(caller.clientCertSerial ? { clientCertSerial: caller.clientCertSerial } : {}),
        serial: issued.serial,
        bundlePem: issued.certChain.at(-1)!,
        anchor: issued.anchor,
        issuedAt: this.#clock.now(),
        notAfter: issued.notAfter.getTime(),
      });
      this.#log.info('issued workload certificate', {
        spiffeId: issued.spiffeId,
        serial: issued.serial,
        notAfter: issued.notAfter.toISOString(),
        via: caller.via,
        key: csr.keyDescription,
      });
      return issued;
    } catch (e) {
      const refusal =
        e instanceof CertificateRefused
          ? e
          : new CertificateRefused('CA_CANNOT_SIGN', `internal error: ${(e as Error).message}`, { cause: e });
      this.metrics.refused(refusal.reason);
      this.#log.warn('refused certificate request', {
        reason: refusal.reason,
        message: refusal.message,
        ...(caller ? { caller: caller.spiffeId } : {}),
      });
      throw refusal;
    }
  }

  /**
   * Which workload instances have received the current trust bundle. During a root rotation, move
   * to the next step (activate, then remove) only when `behind` is empty.
   */
  bundleRollout(): BundleRollout {
    return this.#rollout.rollout(
      this.#ca.trustBundle.pem,
      this.#ca.signingRoot.fingerprint,
      this.#clock.now(),
    );
  }

  /** grpc-js service definition and implementation for `istio.v1.auth.IstioCertificateService`. */
  grpcService(): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
    const createCertificate = (
      call: ServerUnaryCall<IstioCertificateRequest, IstioCertificateResponse>,
      callback: sendUnaryData<IstioCertificateResponse>,
    ) => {
      const auth = call.getAuthContext?.();
      const credentials: CallerCredentials = {
        ...authorizationOf(call.metadata),
        ...(auth?.sslPeerCertificate?.raw ? { verifiedClientCertificate: auth.sslPeerCertificate.raw } : {}),
      };
      this.createCertificate({
        csr: call.request.csr,
        validitySeconds: Number(call.request.validityDuration),
        credentials,
      }).then(
        (issued) => callback(null, create(IstioCertificateResponseSchema, { certChain: issued.certChain })),
        (e: CertificateRefused) => callback({ code: e.grpcStatus, details: e.message }),
      );
    };
    return {
      definition: grpcServiceDefinition(IstioCertificateService),
      implementation: { createCertificate },
    };
  }

  /** Adds the service to a grpc-js server (e.g. the control plane's 15012 server next to ADS). */
  addTo(server: Server): void {
    const { definition, implementation } = this.grpcService();
    server.addService(definition, implementation);
  }
}

function authorizationOf(metadata: Metadata): { authorization?: string } {
  const values = metadata.get('authorization');
  if (values.length === 0) return {};
  // Several authorization values would make "which one authenticated" ambiguous: use none of them.
  if (values.length > 1) return { authorization: values.map(String).join(', ') };
  return { authorization: String(values[0]) };
}
