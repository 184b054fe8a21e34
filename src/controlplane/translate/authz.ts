// AuthorizationPolicy → Envoy RBAC (HTTP and network), in Istio's order: CUSTOM, DENY, ALLOW, with AUDIT as LOG.

import type { AuthorizationPolicy, Condition, Operation, Rule, Source } from '../../api/types/index.js';
import type { PermissionSchema, PrincipalSchema } from '../../xds/gen/envoy/config/rbac/v3/rbac_pb.js';
import { namespaceOf } from '../index/config-index.js';
import type { Init } from './envoy.js';

type PermissionInit = Init<typeof PermissionSchema>;
type PrincipalInit = Init<typeof PrincipalSchema>;

/** Which attributes exist: TCP connections have no HTTP request, so HTTP-only fields cannot be evaluated. */
export type RbacProtocol = 'http' | 'tcp';

/** Where the sidecar's authentication filter publishes request.auth.* (Istio's istio_authn filter). */
export const AUTHN_METADATA_FILTER = 'istio_authn';

/** A rule that needs an attribute the protocol lacks: DENY treats it as a match, ALLOW as a non-match. */
class MissingAttribute extends Error {}

export interface RbacContext {
  protocol: RbacProtocol;
  /** DENY rules: an attribute this protocol lacks counts as a match (Istio), so only that field is dropped. */
  missingMatches?: boolean;
}
type Ctx = RbacContext;

function str(value: string, ignoreCase = false) {
  if (value === '*')
    return { matchPattern: { case: 'safeRegex' as const, value: { regex: '.+' } }, ignoreCase };
  if (value.endsWith('*'))
    return { matchPattern: { case: 'prefix' as const, value: value.slice(0, -1) }, ignoreCase };
  if (value.startsWith('*'))
    return { matchPattern: { case: 'suffix' as const, value: value.slice(1) }, ignoreCase };
  return { matchPattern: { case: 'exact' as const, value }, ignoreCase };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Paths: exact, `prefix*`, `*suffix`, `*`, and Envoy's URI templates `{*}` (one segment) and `{**}` (the rest). */
function pathMatcher(value: string) {
  if (value.includes('{*}') || value.includes('{**}')) {
    const regex = value
      .split(/(\{\*\*\}|\{\*\})/)
      .map((part) => (part === '{**}' ? '.*' : part === '{*}' ? '[^/]+' : escapeRegex(part)))
      .join('');
    return {
      matchPattern: { case: 'safeRegex' as const, value: { regex: `^${regex}$` } },
      ignoreCase: false,
    };
  }
  return str(value);
}

function orPermissions(list: PermissionInit[]): PermissionInit {
  return list.length === 1 ? list[0]! : { rule: { case: 'orRules', value: { rules: list } } };
}

function orPrincipals(list: PrincipalInit[]): PrincipalInit {
  return list.length === 1 ? list[0]! : { identifier: { case: 'orIds', value: { ids: list } } };
}

const notPermission = (p: PermissionInit): PermissionInit => ({ rule: { case: 'notRule', value: p } });
const notPrincipal = (p: PrincipalInit): PrincipalInit => ({ identifier: { case: 'notId', value: p } });
const ANY_PERMISSION: PermissionInit = { rule: { case: 'any', value: true } };
const ANY_PRINCIPAL: PrincipalInit = { identifier: { case: 'any', value: true } };

function headerPermission(name: string, value: string, ignoreCase = false): PermissionInit {
  return {
    rule: {
      case: 'header',
      value: { name, headerMatchSpecifier: { case: 'stringMatch', value: str(value, ignoreCase) } },
    },
  };
}

function cidr(value: string) {
  const [addr, len] = value.split('/');
  const prefixLen = len === undefined ? (addr!.includes(':') ? 128 : 32) : Number(len);
  return { addressPrefix: addr!, prefixLen };
}

/** request.auth.* as the sidecar's JWT filter publishes it: principal and presenter are strings, audiences and
 *  claims lists of strings (a claim matches when any element does, as in Istio). */
function authnMetadata(path: string[], value: string): PrincipalInit {
  const list = path[0] === 'request.auth.claims' || path[0] === 'request.auth.audiences';
  return {
    identifier: {
      case: 'metadata',
      value: {
        filter: AUTHN_METADATA_FILTER,
        path: path.map((key) => ({ segment: { case: 'key' as const, value: key } })),
        value: {
          matchPattern: list
            ? {
                case: 'listMatch',
                value: {
                  matchPattern: {
                    case: 'oneOf',
                    value: { matchPattern: { case: 'stringMatch', value: str(value) } },
                  },
                },
              }
            : { case: 'stringMatch', value: str(value) },
        },
      },
    },
  };
}

function principalName(value: string): PrincipalInit {
  // Policies write principals without `spiffe://`; certificates carry it.
  const spiffe = value === '*' ? '*' : value.startsWith('*') ? value : `spiffe://${value}`;
  return { identifier: { case: 'authenticated', value: { principalName: str(spiffe) } } };
}

function namespacePrincipal(ns: string): PrincipalInit {
  const regex = ns === '*' ? '.*/ns/[^/]+/.*' : `.*/ns/${escapeRegex(ns)}/.*`;
  return {
    identifier: {
      case: 'authenticated',
      value: { principalName: { matchPattern: { case: 'safeRegex', value: { regex } } } },
    },
  };
}

function serviceAccountPrincipal(ref: string): PrincipalInit {
  const [ns, sa] = ref.split('/');
  return {
    identifier: {
      case: 'authenticated',
      value: { principalName: { matchPattern: { case: 'suffix', value: `/ns/${ns}/sa/${sa}` } } },
    },
  };
}

/** One Source: its fields ANDed; the values inside one field ORed; `not*` fields negated. */
/** Runs `build`; a field the protocol lacks is dropped (DENY: missing counts as matched) or fails the rule. */
function tolerant<T>(ctx: Ctx, build: () => T): T | undefined {
  try {
    return build();
  } catch (e) {
    if (e instanceof MissingAttribute && ctx.missingMatches) return undefined;
    throw e;
  }
}

function sourcePrincipal(src: Source, ctx: Ctx): PrincipalInit {
  const and: PrincipalInit[] = [];
  const field = (values: string[] | undefined, make: (v: string) => PrincipalInit, negate = false) => {
    if (!values || values.length === 0) return;
    const or = tolerant(ctx, () => orPrincipals(values.map(make)));
    if (or) and.push(negate ? notPrincipal(or) : or);
  };
  field(src.principals, principalName);
  field(src.notPrincipals, principalName, true);
  const requestPrincipal = (v: string) => {
    if (ctx.protocol === 'tcp') throw new MissingAttribute();
    return authnMetadata(['request.auth.principal'], v);
  };
  field(src.requestPrincipals, requestPrincipal);
  field(src.notRequestPrincipals, requestPrincipal, true);
  field(src.namespaces, namespacePrincipal);
  field(src.notNamespaces, namespacePrincipal, true);
  field(src.serviceAccounts, serviceAccountPrincipal);
  field(src.notServiceAccounts, serviceAccountPrincipal, true);
  const direct = (v: string): PrincipalInit => ({ identifier: { case: 'directRemoteIp', value: cidr(v) } });
  const remote = (v: string): PrincipalInit => ({ identifier: { case: 'remoteIp', value: cidr(v) } });
  field(src.ipBlocks, direct);
  field(src.notIpBlocks, direct, true);
  field(src.remoteIpBlocks, remote);
  field(src.notRemoteIpBlocks, remote, true);
  return and.length === 0
    ? ANY_PRINCIPAL
    : and.length === 1
      ? and[0]!
      : { identifier: { case: 'andIds', value: { ids: and } } };
}

function httpOnly(ctx: Ctx): void {
  if (ctx.protocol === 'tcp') throw new MissingAttribute();
}

/** One Operation: hosts (case-insensitive, with or without port), ports, methods, paths; `not*` negated. */
function operationPermission(op: Operation, ctx: Ctx): PermissionInit {
  const and: PermissionInit[] = [];
  const field = (values: string[] | undefined, make: (v: string) => PermissionInit, negate = false) => {
    if (!values || values.length === 0) return;
    const or = tolerant(ctx, () => orPermissions(values.map(make)));
    if (or) and.push(negate ? notPermission(or) : or);
  };
  const host = (v: string) => {
    httpOnly(ctx);
    if (v === '*') return headerPermission(':authority', '*');
    return orPermissions([
      headerPermission(':authority', v, true),
      headerPermission(':authority', `${v}:*`, true),
    ]);
  };
  field(op.hosts, host);
  field(op.notHosts, host, true);
  const port = (v: string): PermissionInit => ({ rule: { case: 'destinationPort', value: Number(v) } });
  field(op.ports, port);
  field(op.notPorts, port, true);
  const method = (v: string) => {
    httpOnly(ctx);
    return headerPermission(':method', v);
  };
  field(op.methods, method);
  field(op.notMethods, method, true);
  const path = (v: string): PermissionInit => {
    httpOnly(ctx);
    return { rule: { case: 'urlPath', value: { rule: { case: 'path', value: pathMatcher(v) } } } };
  };
  field(op.paths, path);
  field(op.notPaths, path, true);
  return and.length === 0
    ? ANY_PERMISSION
    : and.length === 1
      ? and[0]!
      : { rule: { case: 'andRules', value: { rules: and } } };
}

/** A `when` condition becomes a permission (destination/request attributes) or a principal (source/auth). */
function condition(c: Condition, ctx: Ctx): { permission?: PermissionInit; principal?: PrincipalInit } {
  const key = c.key;
  const values = c.values ?? [];
  const notValues = c.notValues ?? [];
  const build = <T>(make: (v: string) => T, or: (l: T[]) => T, not: (x: T) => T): T[] => {
    const out: T[] = [];
    if (values.length > 0) out.push(or(values.map(make)));
    if (notValues.length > 0) out.push(not(or(notValues.map(make))));
    return out;
  };
  const andP = (l: PermissionInit[]) =>
    l.length === 1 ? l[0]! : { rule: { case: 'andRules' as const, value: { rules: l } } };
  const andI = (l: PrincipalInit[]) =>
    l.length === 1 ? l[0]! : { identifier: { case: 'andIds' as const, value: { ids: l } } };
  const headerKey = /^request\.headers\[(.+)\]$/.exec(key);
  if (headerKey) {
    httpOnly(ctx);
    return {
      permission: andP(
        build((v) => headerPermission(headerKey[1]!.toLowerCase(), v), orPermissions, notPermission),
      ),
    };
  }
  const claim = /^request\.auth\.claims\[(.+)\]$/.exec(key);
  if (claim) {
    httpOnly(ctx);
    const path = ['request.auth.claims', ...claim[1]!.split('][')];
    return { principal: andI(build((v) => authnMetadata(path, v), orPrincipals, notPrincipal)) };
  }
  switch (key) {
    case 'source.ip':
      return {
        principal: andI(
          build(
            (v) => ({ identifier: { case: 'directRemoteIp', value: cidr(v) } }),
            orPrincipals,
            notPrincipal,
          ),
        ),
      };
    case 'remote.ip':
      return {
        principal: andI(
          build((v) => ({ identifier: { case: 'remoteIp', value: cidr(v) } }), orPrincipals, notPrincipal),
        ),
      };
    case 'source.namespace':
      return { principal: andI(build(namespacePrincipal, orPrincipals, notPrincipal)) };
    case 'source.principal':
      return { principal: andI(build(principalName, orPrincipals, notPrincipal)) };
    case 'request.auth.principal':
    case 'request.auth.audiences':
    case 'request.auth.presenter':
      httpOnly(ctx);
      return { principal: andI(build((v) => authnMetadata([key], v), orPrincipals, notPrincipal)) };
    case 'destination.ip':
      return {
        permission: andP(
          build((v) => ({ rule: { case: 'destinationIp', value: cidr(v) } }), orPermissions, notPermission),
        ),
      };
    case 'destination.port':
      return {
        permission: andP(
          build(
            (v) => ({ rule: { case: 'destinationPort', value: Number(v) } }),
            orPermissions,
            notPermission,
          ),
        ),
      };
    case 'connection.sni':
      return {
        permission: andP(
          build(
            (v) => ({ rule: { case: 'requestedServerName', value: str(v) } }),
            orPermissions,
            notPermission,
          ),
        ),
      };
    default:
      // experimental.envoy.filters.* and anything validation let through: metadata of the named filter.
      throw new MissingAttribute();
  }
}

/** One rule → one RBAC policy; undefined when it can never match on this protocol (ALLOW) . */
function rulePolicy(rule: Rule, ctx: Ctx) {
  try {
    const froms = (rule.from ?? []).map((f) => sourcePrincipal(f.source, ctx));
    const tos = (rule.to ?? []).map((t) => operationPermission(t.operation, ctx));
    const permissions: PermissionInit[] = [tos.length === 0 ? ANY_PERMISSION : orPermissions(tos)];
    const principals: PrincipalInit[] = [froms.length === 0 ? ANY_PRINCIPAL : orPrincipals(froms)];
    for (const c of rule.when ?? []) {
      const r = tolerant(ctx, () => condition(c, ctx));
      if (r?.permission) permissions.push(r.permission);
      if (r?.principal) principals.push(r.principal);
    }
    return {
      permissions: [
        permissions.length === 1
          ? permissions[0]!
          : { rule: { case: 'andRules' as const, value: { rules: permissions } } },
      ],
      principals: [
        principals.length === 1
          ? principals[0]!
          : { identifier: { case: 'andIds' as const, value: { ids: principals } } },
      ],
    };
  } catch (e) {
    // Istio: on TCP an ALLOW (or AUDIT, CUSTOM) rule that needs HTTP attributes never matches. A DENY rule only
    // drops those fields (missing counts as matched), so it still denies on the ports it names.
    if (!(e instanceof MissingAttribute)) throw e;
    return undefined;
  }
}

export function policyName(p: AuthorizationPolicy, index: number): string {
  return `ns[${namespaceOf(p)}]-policy[${p.metadata.name}]-rule[${index}]`;
}

/** RBAC policies (name → policy) for all policies of one action. */
export function rbacPolicies(
  policies: readonly AuthorizationPolicy[],
  action: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM',
  ctx: Ctx,
) {
  const out: Record<string, ReturnType<typeof rulePolicy> & object> = {};
  for (const p of policies) {
    if ((p.spec.action ?? 'ALLOW') !== action) continue;
    (p.spec.rules ?? []).forEach((rule, i) => {
      const policy = rulePolicy(rule, {
        ...ctx,
        missingMatches: ctx.protocol === 'tcp' && action === 'DENY',
      });
      if (policy) out[policyName(p, i)] = policy;
    });
  }
  return out;
}
