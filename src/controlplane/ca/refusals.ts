// Why the CA refuses a certificate request: one code per cause, each mapped to a gRPC status and counted.

import { status } from '@grpc/grpc-js';
import { TrellisError } from '../../shared/errors.js';

export const REFUSAL_REASONS = {
  /** No credential at all. */
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  TOKEN_INVALID: status.UNAUTHENTICATED,
  TOKEN_EXPIRED: status.UNAUTHENTICATED,
  /** A client certificate that is valid TLS-wise but names no workload of this trust domain. */
  CLIENT_CERT_INVALID: status.UNAUTHENTICATED,
  /** A token and a client certificate that name different workloads. */
  CREDENTIALS_DISAGREE: status.PERMISSION_DENIED,
  CSR_MALFORMED: status.INVALID_ARGUMENT,
  CSR_BAD_SIGNATURE: status.INVALID_ARGUMENT,
  CSR_WEAK_KEY: status.INVALID_ARGUMENT,
  CSR_NO_IDENTITY: status.INVALID_ARGUMENT,
  CSR_EXTRA_SAN: status.PERMISSION_DENIED,
  CSR_IDENTITY_MISMATCH: status.PERMISSION_DENIED,
  TTL_INVALID: status.INVALID_ARGUMENT,
  /** The CA cannot sign (expired signing chain, internal error). */
  CA_CANNOT_SIGN: status.INTERNAL,
} as const;

export type RefusalReason = keyof typeof REFUSAL_REASONS;

/** A refused certificate request; `code` is the reason. */
export class CertificateRefused extends TrellisError {
  readonly reason: RefusalReason;

  constructor(reason: RefusalReason, message: string, options?: { cause?: unknown }) {
    super(reason, message, undefined, options);
    this.name = 'CertificateRefused';
    this.reason = reason;
  }

  get grpcStatus(): status {
    return REFUSAL_REASONS[this.reason];
  }
}

export interface CaMetricsSnapshot {
  /** Certificate requests received (Istio: citadel_server_csr_count). */
  requests: number;
  /** Certificates issued (Istio: citadel_server_success_cert_issuance_count). */
  issued: number;
  refused: Record<RefusalReason, number>;
}

/** Counters of the issuance path. */
export class CaMetrics {
  #requests = 0;
  #issued = 0;
  readonly #refused = Object.fromEntries(Object.keys(REFUSAL_REASONS).map((k) => [k, 0])) as Record<
    RefusalReason,
    number
  >;

  request(): void {
    this.#requests++;
  }

  issued(): void {
    this.#issued++;
  }

  refused(reason: RefusalReason): void {
    this.#refused[reason]++;
  }

  snapshot(): CaMetricsSnapshot {
    return { requests: this.#requests, issued: this.#issued, refused: { ...this.#refused } };
  }

  /** Prometheus text, with Istio's citadel_* names where Istio has one. */
  prometheus(): string {
    const s = this.snapshot();
    const auth =
      s.refused.UNAUTHENTICATED +
      s.refused.TOKEN_INVALID +
      s.refused.TOKEN_EXPIRED +
      s.refused.CLIENT_CERT_INVALID;
    const parse = s.refused.CSR_MALFORMED + s.refused.CSR_BAD_SIGNATURE + s.refused.CSR_WEAK_KEY;
    const lines = [
      '# TYPE citadel_server_csr_count counter',
      `citadel_server_csr_count ${s.requests}`,
      '# TYPE citadel_server_success_cert_issuance_count counter',
      `citadel_server_success_cert_issuance_count ${s.issued}`,
      '# TYPE citadel_server_authentication_failure_count counter',
      `citadel_server_authentication_failure_count ${auth}`,
      '# TYPE citadel_server_csr_parsing_err_count counter',
      `citadel_server_csr_parsing_err_count ${parse}`,
      '# TYPE citadel_server_csr_sign_err_count counter',
      `citadel_server_csr_sign_err_count ${s.refused.CA_CANNOT_SIGN}`,
      '# TYPE trellis_ca_refusals_total counter',
      ...Object.entries(s.refused).map(([reason, n]) => `trellis_ca_refusals_total{reason="${reason}"} ${n}`),
    ];
    return `${lines.join('\n')}\n`;
  }
}
