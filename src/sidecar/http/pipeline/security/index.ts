// The security seams of the HTTP pipeline filled in: jwt_authn, RBAC and ext_authz filters, Istio's path
// normalization and XFCC, for the sidecar assembly to pass to createHttpConnectionManagerFactory.

import { normalizeRequestPath } from '../../../security/path-normalize.js';
import type { PipelineOptions } from '../options.js';
import { extAuthzFilter } from './ext-authz.js';
import { jwtAuthnFilter } from './jwt-authn.js';
import { rbacFilter } from './rbac.js';
import { xfccBuilder } from './xfcc.js';

export { ClusterExtAuthzTransport, type ClusterExtAuthzTransportOptions } from './cluster-transport.js';
export { extAuthzFilter } from './ext-authz.js';
export { jwtAuthnFilter } from './jwt-authn.js';
export { peerCertificateOf } from './peer.js';
export { rbacFilter } from './rbac.js';
export { dynamicMetadataOf, requestContextOf } from './request-context.js';
export { type XfccBuilderOptions, xfccBuilder } from './xfcc.js';

export interface SecurityPipelineDeps {
  /**
   * This sidecar's SPIFFE ID (`spiffe://<td>/ns/<ns>/sa/<sa>`), written as XFCC's `By` when a connection does
   * not say which identity it was terminated with (`DownstreamConnection.tls.localIdentity` wins).
   */
  localPrincipal?: string;
}

/**
 * Everything the pipeline needs to enforce Istio's security with Envoy's semantics:
 * - `security`: the jwt_authn, RBAC and ext_authz filters, run where the HCM config puts them (Istio's order:
 *   jwt_authn, CUSTOM's shadow RBAC, ext_authz, DENY, ALLOW, AUDIT); ext_authz reaches its service through the
 *   HCM's cluster manager;
 * - `normalizePath`: Istio's normalization (docs/security.md: `%00` refused, escaped slashes, RFC 3986, merged
 *   slashes, query untouched), the path RBAC and the application both see;
 * - `forwardClientCert`: XFCC from the verified peer certificate (SANITIZE_SET replaces a client's header).
 *
 * ```ts
 * createHttpConnectionManagerFactory({ ...securityPipelineOptions({ localPrincipal }), clock, logger });
 * ```
 */
export function securityPipelineOptions(
  deps: SecurityPipelineDeps = {},
): Pick<PipelineOptions, 'security' | 'normalizePath' | 'forwardClientCert'> {
  return {
    security: { jwt: jwtAuthnFilter, rbac: rbacFilter, extAuthz: extAuthzFilter },
    normalizePath: normalizeRequestPath,
    forwardClientCert: xfccBuilder({ localPrincipal: deps.localPrincipal }),
  };
}
