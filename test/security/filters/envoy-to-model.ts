// Test helper: translated Envoy security filters (protobuf) → the sidecar's config model, until the decoders land.

import type { Duration } from '@bufbuild/protobuf/wkt';
import type {
  ExtAuthzConfig,
  HeaderMatcher,
  HttpFilterConfig,
  JwtConfig,
  MetadataMatcher,
  NetworkRbacConfig,
  RbacPermission,
  RbacPrincipal,
  RbacRules,
  StringMatch,
} from '../../../src/sidecar/config/model.js';
import { stringMatch } from '../../../src/sidecar/config/string-match.js';
import { type Any, unpackAs } from '../../../src/xds/any.js';
import type { CidrRange } from '../../../src/xds/gen/envoy/config/core/v3/address_pb.js';
import type { Listener } from '../../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import {
  type Permission,
  type Principal,
  type RBAC,
  RBAC_Action,
} from '../../../src/xds/gen/envoy/config/rbac/v3/rbac_pb.js';
import type { HeaderMatcher as HeaderMatcherPb } from '../../../src/xds/gen/envoy/config/route/v3/route_components_pb.js';
import { ExtAuthzSchema } from '../../../src/xds/gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import { JwtAuthenticationSchema } from '../../../src/xds/gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { RBACSchema as HttpRbacSchema } from '../../../src/xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RBACSchema as NetworkRbacSchema } from '../../../src/xds/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import type { MetadataMatcher as MetadataMatcherPb } from '../../../src/xds/gen/envoy/type/matcher/v3/metadata_pb.js';
import type { StringMatcher } from '../../../src/xds/gen/envoy/type/matcher/v3/string_pb.js';

function ms(d: Duration | undefined, fallback: number): number {
  return d ? Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6) : fallback;
}

export function toStringMatch(m: StringMatcher | undefined): StringMatch {
  const p = m?.matchPattern;
  const ignoreCase = m?.ignoreCase ?? false;
  switch (p?.case) {
    case 'exact':
    case 'prefix':
    case 'suffix':
    case 'contains':
      return stringMatch(p.case, p.value, ignoreCase);
    case 'safeRegex':
      return stringMatch('regex', p.value.regex, ignoreCase);
    default:
      throw new Error(`unsupported string matcher ${String(p?.case)}`);
  }
}

function cidr(c: CidrRange | undefined) {
  return { address: c?.addressPrefix ?? '', prefixLen: c?.prefixLen ?? 0 };
}

function headerMatcher(h: HeaderMatcherPb): HeaderMatcher {
  const base = { name: h.name, invert: h.invertMatch, treatMissingAsEmpty: h.treatMissingHeaderAsEmpty };
  const s = h.headerMatchSpecifier;
  switch (s.case) {
    case 'stringMatch':
      return { ...base, kind: 'string', match: toStringMatch(s.value) };
    case 'exactMatch':
      return { ...base, kind: 'string', match: stringMatch('exact', s.value) };
    case 'prefixMatch':
      return { ...base, kind: 'string', match: stringMatch('prefix', s.value) };
    case 'suffixMatch':
      return { ...base, kind: 'string', match: stringMatch('suffix', s.value) };
    case 'containsMatch':
      return { ...base, kind: 'string', match: stringMatch('contains', s.value) };
    case 'safeRegexMatch':
      return { ...base, kind: 'string', match: stringMatch('regex', s.value.regex) };
    case 'presentMatch':
      return { ...base, kind: 'present', present: s.value };
    case 'rangeMatch':
      return { ...base, kind: 'range', range: { start: Number(s.value.start), end: Number(s.value.end) } };
    default:
      return { ...base, kind: 'present', present: true };
  }
}

function metadataMatcher(m: MetadataMatcherPb): MetadataMatcher {
  const path = m.path.map((seg) => (seg.segment.case === 'key' ? seg.segment.value : ''));
  const v = m.value?.matchPattern;
  let value: MetadataMatcher['value'];
  if (v?.case === 'stringMatch') value = { kind: 'string', match: toStringMatch(v.value) };
  else if (v?.case === 'presentMatch') value = { kind: 'present' };
  else if (v?.case === 'boolMatch') value = { kind: 'bool', value: v.value };
  else if (v?.case === 'listMatch' && v.value.matchPattern.case === 'oneOf') {
    const inner = v.value.matchPattern.value.matchPattern;
    if (inner.case !== 'stringMatch') throw new Error('unsupported list element matcher');
    value = { kind: 'listOneOf', match: toStringMatch(inner.value) };
  } else throw new Error(`unsupported metadata value matcher ${String(v?.case)}`);
  return { filter: m.filter, path, value, invert: m.invert };
}

function permission(p: Permission): RbacPermission {
  const r = p.rule;
  switch (r.case) {
    case 'any':
      return { kind: 'any' };
    case 'andRules':
      return { kind: 'and', rules: r.value.rules.map(permission) };
    case 'orRules':
      return { kind: 'or', rules: r.value.rules.map(permission) };
    case 'notRule':
      return { kind: 'not', rule: permission(r.value) };
    case 'header':
      return { kind: 'header', matcher: headerMatcher(r.value) };
    case 'urlPath':
      if (r.value.rule.case !== 'path') throw new Error('url_path without path');
      return { kind: 'urlPath', match: toStringMatch(r.value.rule.value) };
    case 'destinationIp':
      return { kind: 'destinationIp', cidr: cidr(r.value) };
    case 'destinationPort':
      return { kind: 'destinationPort', port: r.value };
    case 'requestedServerName':
      return { kind: 'requestedServerName', match: toStringMatch(r.value) };
    case 'metadata':
      return { kind: 'metadata', matcher: metadataMatcher(r.value) };
    default:
      throw new Error(`unsupported permission ${String(r.case)}`);
  }
}

function principal(p: Principal): RbacPrincipal {
  const id = p.identifier;
  switch (id.case) {
    case 'any':
      return { kind: 'any' };
    case 'andIds':
      return { kind: 'and', ids: id.value.ids.map(principal) };
    case 'orIds':
      return { kind: 'or', ids: id.value.ids.map(principal) };
    case 'notId':
      return { kind: 'not', id: principal(id.value) };
    case 'authenticated':
      return {
        kind: 'authenticated',
        principalName: id.value.principalName ? toStringMatch(id.value.principalName) : undefined,
      };
    case 'directRemoteIp':
      return { kind: 'directRemoteIp', cidr: cidr(id.value) };
    case 'remoteIp':
      return { kind: 'remoteIp', cidr: cidr(id.value) };
    case 'sourceIp':
      return { kind: 'sourceIp', cidr: cidr(id.value) };
    case 'header':
      return { kind: 'header', matcher: headerMatcher(id.value) };
    case 'urlPath':
      if (id.value.rule.case !== 'path') throw new Error('url_path without path');
      return { kind: 'urlPath', match: toStringMatch(id.value.rule.value) };
    case 'metadata':
      return { kind: 'metadata', matcher: metadataMatcher(id.value) };
    default:
      throw new Error(`unsupported principal ${String(id.case)}`);
  }
}

export function rbacRules(rbac: RBAC | undefined): RbacRules | undefined {
  if (!rbac) return undefined;
  const action =
    rbac.action === RBAC_Action.DENY ? 'DENY' : rbac.action === RBAC_Action.LOG ? 'LOG' : 'ALLOW';
  return {
    action,
    policies: Object.entries(rbac.policies).map(([name, p]) => ({
      name,
      permissions: p.permissions.map(permission),
      principals: p.principals.map(principal),
    })),
  };
}

function jwtConfig(any: Any): JwtConfig {
  const cfg = unpackAs(any, JwtAuthenticationSchema);
  const allowMissing = JSON.stringify(cfg.rules.map((r) => r.requirementType)).includes('allowMissing');
  return {
    allowMissing,
    providers: Object.entries(cfg.providers).map(([name, p]) => ({
      name,
      issuer: p.issuer,
      audiences: p.audiences,
      jwks:
        p.jwksSourceSpecifier.case === 'localJwks' &&
        p.jwksSourceSpecifier.value.specifier.case === 'inlineString'
          ? p.jwksSourceSpecifier.value.specifier.value
          : '',
      forward: p.forward,
      fromHeaders: p.fromHeaders.map((h) => ({ name: h.name, valuePrefix: h.valuePrefix })),
      fromParams: p.fromParams,
      fromCookies: p.fromCookies,
      forwardPayloadHeader: p.forwardPayloadHeader,
      payloadInMetadata: p.payloadInMetadata,
      claimToHeaders: p.claimToHeaders.map((c) => ({ headerName: c.headerName, claimName: c.claimName })),
    })),
  };
}

function extAuthzConfig(any: Any): ExtAuthzConfig {
  const cfg = unpackAs(any, ExtAuthzSchema);
  const base = {
    failureModeAllow: cfg.failureModeAllow,
    statusOnError: cfg.statusOnError?.code || 403,
    enabledMetadata: cfg.filterEnabledMetadata ? metadataMatcher(cfg.filterEnabledMetadata) : undefined,
  };
  const s = cfg.services;
  if (s.case === 'httpService') {
    const h = s.value;
    const list = (l: { patterns: StringMatcher[] } | undefined) => (l?.patterns ?? []).map(toStringMatch);
    return {
      ...base,
      service: {
        kind: 'http',
        cluster: h.serverUri?.httpUpstreamType.case === 'cluster' ? h.serverUri.httpUpstreamType.value : '',
        uri: h.serverUri?.uri ?? '',
        pathPrefix: h.pathPrefix,
        timeoutMs: ms(h.serverUri?.timeout, 200),
        allowedHeaders: list(h.authorizationRequest?.allowedHeaders),
        allowedUpstreamHeaders: list(h.authorizationResponse?.allowedUpstreamHeaders),
        allowedClientHeaders: list(h.authorizationResponse?.allowedClientHeaders),
      },
    };
  }
  if (s.case === 'grpcService') {
    const g = s.value;
    return {
      ...base,
      service: {
        kind: 'grpc',
        cluster: g.targetSpecifier.case === 'envoyGrpc' ? g.targetSpecifier.value.clusterName : '',
        timeoutMs: ms(g.timeout, 200),
      },
    };
  }
  throw new Error('ext_authz without a service');
}

/** The HCM's security filters and the network RBAC filters of one inbound filter chain. */
export interface ChainSecurity {
  http: HttpFilterConfig[];
  network: NetworkRbacConfig[];
}

/** Decodes the filter chain named `chainName` (e.g. `9080-mtls-http`) of `virtualInbound`. */
export function chainSecurity(listeners: readonly Listener[], chainName: string): ChainSecurity {
  const inbound = listeners.find((l) => l.name === 'virtualInbound');
  const chain = inbound?.filterChains.find((c) => c.name === chainName);
  if (!chain) {
    const names = inbound?.filterChains.map((c) => c.name).join(', ');
    throw new Error(`no filter chain "${chainName}" on virtualInbound (have: ${names})`);
  }
  const out: ChainSecurity = { http: [], network: [] };
  for (const f of chain.filters) {
    const any = f.configType.case === 'typedConfig' ? f.configType.value : undefined;
    if (!any) continue;
    if (f.name === 'envoy.filters.network.rbac') {
      const cfg = unpackAs(any, NetworkRbacSchema);
      out.network.push({
        statPrefix: cfg.statPrefix,
        rules: rbacRules(cfg.rules),
        shadowRules: rbacRules(cfg.shadowRules),
      });
    } else if (f.name === 'envoy.filters.network.http_connection_manager') {
      const hcm = unpackAs(any, HttpConnectionManagerSchema);
      for (const hf of hcm.httpFilters) {
        const typed = hf.configType.case === 'typedConfig' ? hf.configType.value : undefined;
        if (!typed) continue;
        if (hf.name === 'envoy.filters.http.rbac') {
          const cfg = unpackAs(typed, HttpRbacSchema);
          out.http.push({
            name: hf.name,
            kind: 'rbac',
            rules: rbacRules(cfg.rules),
            shadowRules: rbacRules(cfg.shadowRules),
            shadowRulesStatPrefix: cfg.shadowRulesStatPrefix,
          });
        } else if (hf.name === 'envoy.filters.http.jwt_authn') {
          out.http.push({ name: hf.name, kind: 'jwt', config: jwtConfig(typed) });
        } else if (hf.name === 'envoy.filters.http.ext_authz') {
          out.http.push({ name: hf.name, kind: 'extAuthz', config: extAuthzConfig(typed) });
        }
      }
    }
  }
  return out;
}
