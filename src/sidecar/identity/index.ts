// The sidecar identity room's public surface: the agent, the TLS contexts, peer identity, admin /certs.

export { type EnvoyCertificateDetails, type EnvoyCertificates, envoyCertsJson } from './admin-certs.js';
export { type CaClient, type CertificateCall, GrpcCaClient, type GrpcCaClientOptions } from './ca-client.js';
export { type CertificateInfo, describeCertificate, describeCertificates } from './cert-info.js';
export { createWorkloadCsr, type KeyAndCsr } from './csr.js';
export {
  type AgentStatus,
  IdentityAgent,
  type IdentityAgentOptions,
  type SecretsSource,
} from './identity-agent.js';
export {
  DEFAULT_INBOUND_ALPN,
  type InboundTlsOptions,
  MeshTls,
  type OutboundTlsOptions,
} from './mesh-tls.js';
export { peerIdentity } from './peer-identity.js';
export { DEFAULT_RENEWAL, type RenewalPolicy, renewalDelayMs } from './renewal.js';
export {
  DEFAULT_SECRET,
  ROOTCA_SECRET,
  secretsFromCaResponse,
  secretsFromPem,
  type WorkloadSecrets,
} from './secrets.js';
export { SecureNamingError, secureNamingCheck } from './secure-naming.js';
