// Authentication and authorization filters for a workload (RequestAuthentication → jwt_authn, AuthorizationPolicy
// → ext_authz + RBAC), in Istio's order: JWT, CUSTOM, DENY, ALLOW, AUDIT.

import { create } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import type { AuthorizationPolicy, RequestAuthentication } from '../../api/types/index.js';
import { parseDuration } from '../../shared/duration.js';
import { ApiVersion } from '../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import { RBAC_Action } from '../../xds/gen/envoy/config/rbac/v3/rbac_pb.js';
import { ExtAuthzSchema } from '../../xds/gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import { JwtAuthenticationSchema } from '../../xds/gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { RBACSchema as HttpRBACSchema } from '../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import {
  type HttpFilter,
  HttpFilterSchema,
} from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RBACSchema as NetworkRBACSchema } from '../../xds/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { resolveHost } from '../index/hosts.js';
import type { MeshIndex } from '../index/mesh-index.js';
import { authorizationPoliciesFor, requestAuthenticationsFor } from '../index/workload-policies.js';
import { AUTHN_METADATA_FILTER, type RbacProtocol, rbacPolicies } from './authz.js';
import { ms, outboundClusterName, typed } from './envoy.js';
import type { MeshProxy } from './proxy.js';

export const JWT_FILTER = 'envoy.filters.http.jwt_authn';
export const EXT_AUTHZ_FILTER = 'envoy.filters.http.ext_authz';
export const HTTP_RBAC_FILTER = 'envoy.filters.http.rbac';
export const NETWORK_RBAC_FILTER = 'envoy.filters.network.rbac';
export const EXT_AUTHZ_SHADOW_PREFIX = 'istio_ext_authz_';

/**
 * A JWKS that no token can verify against (a random RSA key), inlined when a jwksUri was never fetched: requests
 * carrying tokens then fail closed with 401, while requests without tokens stay anonymous, as in Istio.
 */
export const FAIL_CLOSED_JWKS = JSON.stringify({
  keys: [
    {
      ...{
        kty: 'RSA',
        n: '8dMGmtvzHQ_xeSl0X20diNp9JGFfYWa7SfibCLo7ibXw07UipZzWHdmABRnxyQgmR7VR1EyxgS3vM8nBCZxpGQNIvAYcqMcOIROQjMpe4FkfmxT3_h7VEVAUU2gb7b8y5OInODQSEEIvGSZP4COpDhu8q4aKwL10nWmbpZSMjUI_WWuAGo99ghRiD_pv2tRUnEDMEl7wkoHjAiyRdq4s5pEE8onIZ0pShqYzkxU0A4h3VSyazlD2W-qJZvC_NEfm-BJDY72dOzjJC2r8eR0QTXAyYOW1M_hK3U-VZeTrZkIvoAjOylrw8JJXwKt8b3HvU7mX41BctE3PRQCKJpcPyw',
        e: 'AQAB',
      },
      kid: 'trellis-jwks-unavailable',
      alg: 'RS256',
      use: 'sig',
    },
  ],
});

function httpFilter(name: string, config: Any): HttpFilter {
  return create(HttpFilterSchema, { name, configType: { case: 'typedConfig', value: config } });
}

function providerName(issuer: string, index: number): string {
  return `origins-${index}-${issuer}`;
}

/** RequestAuthentication rules → one jwt_authn filter: any valid token from any provider, or none at all. */
function jwtFilter(index: MeshIndex, policies: RequestAuthentication[]): HttpFilter | undefined {
  const rules = policies.flatMap((p) => p.spec.jwtRules ?? []);
  if (rules.length === 0) return undefined;
  const providers: Record<string, object> = {};
  rules.forEach((r, i) => {
    const jwks = r.jwks ?? (r.jwksUri ? index.jwks(r.jwksUri) : undefined) ?? FAIL_CLOSED_JWKS;
    providers[providerName(r.issuer, i)] = {
      issuer: r.issuer,
      audiences: r.audiences ?? [],
      jwksSourceSpecifier: { case: 'localJwks', value: { specifier: { case: 'inlineString', value: jwks } } },
      forward: r.forwardOriginalToken ?? false,
      fromHeaders: (r.fromHeaders ?? []).map((h) => ({ name: h.name, valuePrefix: h.prefix ?? '' })),
      fromParams: r.fromParams ?? [],
      fromCookies: r.fromCookies ?? [],
      forwardPayloadHeader: r.outputPayloadToHeader ?? '',
      payloadInMetadata: r.issuer,
      claimToHeaders: (r.outputClaimToHeaders ?? []).map((c) => ({
        headerName: c.header,
        claimName: c.claim,
      })),
    };
  });
  return httpFilter(
    JWT_FILTER,
    typed(JwtAuthenticationSchema, {
      providers,
      rules: [
        {
          match: { pathSpecifier: { case: 'prefix', value: '/' } },
          requirementType: {
            case: 'requires',
            value: {
              requiresType: {
                case: 'requiresAny',
                value: {
                  requirements: [
                    ...Object.keys(providers).map((name) => ({
                      requiresType: { case: 'providerName' as const, value: name },
                    })),
                    { requiresType: { case: 'allowMissing' as const, value: {} } },
                  ],
                },
              },
            },
          },
        },
      ],
    }),
  );
}

function extAuthzFilter(index: MeshIndex, policies: AuthorizationPolicy[]): HttpFilter | undefined {
  const custom = policies.filter((p) => p.spec.action === 'CUSTOM');
  const name = custom[0]?.spec.provider?.name;
  const provider = name ? index.mesh.extensionProviders?.find((p) => p.name === name) : undefined;
  if (!provider) return undefined;
  const clusterFor = (service: string, port: number) =>
    outboundClusterName(
      port,
      '',
      service.includes('/')
        ? resolveHost(service.split('/')[1]!, service.split('/')[0]!, index.mesh.domainSuffix)
        : service,
    );
  const enabled = {
    filter: HTTP_RBAC_FILTER,
    path: [
      { segment: { case: 'key' as const, value: `${EXT_AUTHZ_SHADOW_PREFIX}shadow_effective_policy_id` } },
    ],
    value: {
      matchPattern: {
        case: 'stringMatch' as const,
        value: { matchPattern: { case: 'prefix' as const, value: 'istio-ext-authz' } },
      },
    },
  };
  const http = provider.envoyExtAuthzHttp;
  if (http) {
    return httpFilter(
      EXT_AUTHZ_FILTER,
      typed(ExtAuthzSchema, {
        services: {
          case: 'httpService',
          value: {
            serverUri: {
              uri: `http://${http.service}:${http.port}`,
              httpUpstreamType: { case: 'cluster', value: clusterFor(http.service, http.port) },
              timeout: ms(parseDuration(http.timeout ?? '600s') ?? 600_000),
            },
            pathPrefix: http.pathPrefix ?? '',
            authorizationRequest: {
              allowedHeaders: http.includeRequestHeadersInCheck
                ? {
                    patterns: http.includeRequestHeadersInCheck.map((h) => ({
                      matchPattern: { case: 'exact' as const, value: h },
                      ignoreCase: true,
                    })),
                  }
                : undefined,
            },
            authorizationResponse: {
              allowedUpstreamHeaders: http.headersToUpstreamOnAllow
                ? {
                    patterns: http.headersToUpstreamOnAllow.map((h) => ({
                      matchPattern: { case: 'exact' as const, value: h },
                      ignoreCase: true,
                    })),
                  }
                : undefined,
              allowedClientHeaders: http.headersToDownstreamOnDeny
                ? {
                    patterns: http.headersToDownstreamOnDeny.map((h) => ({
                      matchPattern: { case: 'exact' as const, value: h },
                      ignoreCase: true,
                    })),
                  }
                : undefined,
            },
          },
        },
        transportApiVersion: ApiVersion.V3,
        failureModeAllow: http.failOpen ?? false,
        statusOnError: { code: Number(http.statusOnError ?? 403) },
        filterEnabledMetadata: enabled,
      }),
    );
  }
  const grpc = provider.envoyExtAuthzGrpc;
  if (grpc) {
    return httpFilter(
      EXT_AUTHZ_FILTER,
      typed(ExtAuthzSchema, {
        services: {
          case: 'grpcService',
          value: {
            targetSpecifier: {
              case: 'envoyGrpc',
              value: { clusterName: clusterFor(grpc.service, grpc.port) },
            },
            timeout: ms(parseDuration(grpc.timeout ?? '600s') ?? 600_000),
          },
        },
        transportApiVersion: ApiVersion.V3,
        failureModeAllow: grpc.failOpen ?? false,
        statusOnError: { code: Number(grpc.statusOnError ?? 403) },
        filterEnabledMetadata: enabled,
      }),
    );
  }
  return undefined;
}

function rulesFor(
  policies: AuthorizationPolicy[],
  action: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM',
  protocol: RbacProtocol,
) {
  const policiesMap = rbacPolicies(policies, action, { protocol });
  return {
    action:
      action === 'DENY' || action === 'CUSTOM'
        ? RBAC_Action.DENY
        : action === 'AUDIT'
          ? RBAC_Action.LOG
          : RBAC_Action.ALLOW,
    policies: policiesMap,
  };
}

function customPolicies(policies: AuthorizationPolicy[], protocol: RbacProtocol) {
  const rules = rulesFor(policies, 'CUSTOM', protocol);
  // Policy ids carry the prefix the ext_authz filter's filter_enabled_metadata looks for.
  rules.policies = Object.fromEntries(
    Object.entries(rules.policies).map(([k, v]) => [`istio-ext-authz-${k}`, v]),
  );
  return rules;
}

function policiesOf(index: MeshIndex, proxy: MeshProxy): AuthorizationPolicy[] {
  return authorizationPoliciesFor(index.config, proxy, index.mesh.rootNamespace);
}

/** The HTTP filters that authenticate and authorize requests to the workload (and on gateways). */
export function inboundHttpSecurityFilters(index: MeshIndex, proxy: MeshProxy, _port: number): HttpFilter[] {
  const out: HttpFilter[] = [];
  const jwt = jwtFilter(index, requestAuthenticationsFor(index.config, proxy, index.mesh.rootNamespace));
  if (jwt) out.push(jwt);
  const policies = policiesOf(index, proxy);
  const has = (a: string) => policies.some((p) => (p.spec.action ?? 'ALLOW') === a);
  const ext = has('CUSTOM') ? extAuthzFilter(index, policies) : undefined;
  if (ext) {
    out.push(
      httpFilter(
        HTTP_RBAC_FILTER,
        typed(HttpRBACSchema, {
          shadowRules: customPolicies(policies, 'http'),
          shadowRulesStatPrefix: EXT_AUTHZ_SHADOW_PREFIX,
        }),
      ),
      ext,
    );
  }
  if (has('DENY'))
    out.push(
      httpFilter(HTTP_RBAC_FILTER, typed(HttpRBACSchema, { rules: rulesFor(policies, 'DENY', 'http') })),
    );
  if (has('ALLOW'))
    out.push(
      httpFilter(HTTP_RBAC_FILTER, typed(HttpRBACSchema, { rules: rulesFor(policies, 'ALLOW', 'http') })),
    );
  if (has('AUDIT'))
    out.push(
      httpFilter(HTTP_RBAC_FILTER, typed(HttpRBACSchema, { rules: rulesFor(policies, 'AUDIT', 'http') })),
    );
  return out;
}

/** The network filters that authorize TCP connections to the workload. */
export function inboundTcpSecurityFilters(
  index: MeshIndex,
  proxy: MeshProxy,
  _port: number,
): { name: string; configType: { case: 'typedConfig'; value: Any } }[] {
  const policies = policiesOf(index, proxy);
  const has = (a: string) => policies.some((p) => (p.spec.action ?? 'ALLOW') === a);
  const out: { name: string; configType: { case: 'typedConfig'; value: Any } }[] = [];
  const add = (action: 'DENY' | 'ALLOW' | 'AUDIT') =>
    out.push({
      name: NETWORK_RBAC_FILTER,
      configType: {
        case: 'typedConfig',
        value: typed(NetworkRBACSchema, { rules: rulesFor(policies, action, 'tcp'), statPrefix: 'tcp.' }),
      },
    });
  if (has('DENY')) add('DENY');
  if (has('ALLOW')) add('ALLOW');
  if (has('AUDIT')) add('AUDIT');
  return out;
}

export { AUTHN_METADATA_FILTER };
