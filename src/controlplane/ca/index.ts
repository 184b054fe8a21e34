// The CA room's public surface: the CA, token issuance and verification, the CreateCertificate service.

export type { AuthenticatedCaller, CallerCredentials } from './authenticate.js';
export type { BundleRollout } from './bundle-rollout.js';
export {
  type CertificateRequest,
  CertificateService,
  type CertificateServiceOptions,
} from './certificate-service.js';
export {
  type CaMode,
  DEFAULT_MAX_WORKLOAD_TTL_MS,
  DEFAULT_ROOT_TTL_MS,
  DEFAULT_WORKLOAD_TTL_MS,
  type IssuedCertificate,
  MeshCa,
  type MeshCaOptions,
  SERVING_DNS_NAMES,
  type ServingCertificate,
} from './mesh-ca.js';
export { CaMetrics, type CaMetricsSnapshot, CertificateRefused, type RefusalReason } from './refusals.js';
export { caServerCredentials } from './server-credentials.js';
export { PLUGIN_FILES } from './signing-material.js';
export { STATE_FILES } from './state-files.js';
export { readCaStateCertificates, type StateCertificate } from './state-listing.js';
export { JwtTokenVerifier, type TokenIdentity, type TokenVerifier } from './token-verifier.js';
export { TrustBundle, type TrustedRoot } from './trust-bundle.js';
export {
  DEFAULT_TOKEN_ISSUER,
  ISTIO_CA_AUDIENCE,
  type IssueTokenOptions,
  serviceAccountSubject,
  WorkloadTokenIssuer,
} from './workload-token.js';
