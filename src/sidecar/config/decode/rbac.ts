// Envoy RBAC (HTTP and network filters) → RbacRules: policies sorted by name, permissions and principals compiled.

import {
  type Permission,
  PolicySchema,
  type Principal,
  type RBAC,
  RBAC_Action,
  RBACSchema as RbacRulesSchema,
} from '../../../xds/gen/envoy/config/rbac/v3/rbac_pb.js';
import type { PathMatcher } from '../../../xds/gen/envoy/type/matcher/v3/path_pb.js';
import type { RbacPermission, RbacPrincipal, RbacRules, StringMatch } from '../model.js';
import { cidr } from './common.js';
import { fieldPolicy } from './fields.js';
import { headerMatcher, metadataMatcher, stringMatcher } from './matchers.js';
import { at, type DecodeContext } from './problems.js';
import { snake } from './typed.js';

const RULES_FIELDS = fieldPolicy(RbacRulesSchema, { handled: ['action', 'policies'] });
const POLICY_FIELDS = fieldPolicy(PolicySchema, { handled: ['permissions', 'principals'] });

const ACTIONS: Record<number, RbacRules['action']> = {
  [RBAC_Action.ALLOW]: 'ALLOW',
  [RBAC_Action.DENY]: 'DENY',
  [RBAC_Action.LOG]: 'LOG',
};

export function rbacRules(ctx: DecodeContext, rules: RBAC, path: string): RbacRules | undefined {
  RULES_FIELDS.check(ctx, rules, path);
  const action = ACTIONS[rules.action];
  if (!action) {
    ctx.report(at(path, 'action'), `unknown RBAC action ${rules.action}`);
    return undefined;
  }
  // Envoy keeps policies in a sorted map: evaluation order, and so the reported policy, follow the name.
  const names = Object.keys(rules.policies).sort();
  const policies: RbacRules['policies'][number][] = [];
  for (const name of names) {
    const policy = rules.policies[name]!;
    const p = `${path}.policies["${name}"]`;
    POLICY_FIELDS.check(ctx, policy, p);
    if (policy.permissions.length === 0)
      ctx.report(at(p, 'permissions'), 'at least one permission is required');
    if (policy.principals.length === 0) ctx.report(at(p, 'principals'), 'at least one principal is required');
    const permissions = policy.permissions.map((x, i) => permission(ctx, x, at(at(p, 'permissions'), i)));
    const principals = policy.principals.map((x, i) => principal(ctx, x, at(at(p, 'principals'), i)));
    if (permissions.every(Boolean) && principals.every(Boolean)) {
      policies.push({
        name,
        permissions: permissions as RbacPermission[],
        principals: principals as RbacPrincipal[],
      });
    }
  }
  return { action, policies };
}

function urlPath(ctx: DecodeContext, m: PathMatcher, path: string): StringMatch | undefined {
  if (m.rule.case !== 'path') {
    ctx.report(path, 'url_path needs a path matcher');
    return undefined;
  }
  return stringMatcher(ctx, m.rule.value, at(path, 'path'));
}

function permission(ctx: DecodeContext, p: Permission, path: string): RbacPermission | undefined {
  const r = p.rule;
  const here = r.case ? at(path, snake(r.case)) : path;
  switch (r.case) {
    case 'any':
      return r.value ? { kind: 'any' } : unset(ctx, here, 'any: false matches nothing; omit it');
    case 'andRules':
    case 'orRules': {
      const rules = r.value.rules.map((x, i) => permission(ctx, x, at(at(here, 'rules'), i)));
      if (!rules.every(Boolean)) return undefined;
      return { kind: r.case === 'andRules' ? 'and' : 'or', rules: rules as RbacPermission[] };
    }
    case 'notRule': {
      const rule = permission(ctx, r.value, here);
      return rule ? { kind: 'not', rule } : undefined;
    }
    case 'header': {
      const matcher = headerMatcher(ctx, r.value, here);
      return matcher ? { kind: 'header', matcher } : undefined;
    }
    case 'urlPath': {
      const match = urlPath(ctx, r.value, here);
      return match ? { kind: 'urlPath', match } : undefined;
    }
    case 'destinationIp': {
      const c = cidr(ctx, r.value, here);
      return c ? { kind: 'destinationIp', cidr: c } : undefined;
    }
    case 'destinationPort':
      if (r.value > 65535) return unset(ctx, here, `port ${r.value} is out of range`);
      return { kind: 'destinationPort', port: r.value };
    case 'requestedServerName': {
      const match = stringMatcher(ctx, r.value, here);
      return match ? { kind: 'requestedServerName', match } : undefined;
    }
    case 'metadata': {
      const matcher = metadataMatcher(ctx, r.value, here);
      return matcher ? { kind: 'metadata', matcher } : undefined;
    }
    case undefined:
      return unset(ctx, path, 'a permission needs a rule');
    default:
      return unset(ctx, here, `${snake(r.case)} permissions are not supported by the Trellis sidecar`);
  }
}

function principal(ctx: DecodeContext, p: Principal, path: string): RbacPrincipal | undefined {
  const id = p.identifier;
  const here = id.case ? at(path, snake(id.case)) : path;
  switch (id.case) {
    case 'any':
      return id.value ? { kind: 'any' } : unset(ctx, here, 'any: false matches nothing; omit it');
    case 'andIds':
    case 'orIds': {
      const ids = id.value.ids.map((x, i) => principal(ctx, x, at(at(here, 'ids'), i)));
      if (!ids.every(Boolean)) return undefined;
      return { kind: id.case === 'andIds' ? 'and' : 'or', ids: ids as RbacPrincipal[] };
    }
    case 'notId': {
      const inner = principal(ctx, id.value, here);
      return inner ? { kind: 'not', id: inner } : undefined;
    }
    case 'authenticated': {
      if (!id.value.principalName) return { kind: 'authenticated' };
      const match = stringMatcher(ctx, id.value.principalName, at(here, 'principal_name'));
      return match ? { kind: 'authenticated', principalName: match } : undefined;
    }
    case 'sourceIp':
    case 'directRemoteIp':
    case 'remoteIp': {
      const c = cidr(ctx, id.value, here);
      return c ? { kind: id.case, cidr: c } : undefined;
    }
    case 'header': {
      const matcher = headerMatcher(ctx, id.value, here);
      return matcher ? { kind: 'header', matcher } : undefined;
    }
    case 'urlPath': {
      const match = urlPath(ctx, id.value, here);
      return match ? { kind: 'urlPath', match } : undefined;
    }
    case 'metadata': {
      const matcher = metadataMatcher(ctx, id.value, here);
      return matcher ? { kind: 'metadata', matcher } : undefined;
    }
    case undefined:
      return unset(ctx, path, 'a principal needs an identifier');
    default:
      return unset(ctx, here, `${snake(id.case)} principals are not supported by the Trellis sidecar`);
  }
}

function unset(ctx: DecodeContext, path: string, message: string): undefined {
  ctx.report(path, message);
  return undefined;
}
