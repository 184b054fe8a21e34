// RBAC permissions and principals compiled once into closures over a request or connection context.

import { TrellisError } from '../../shared/errors.js';
import type { RbacPermission, RbacPrincipal, StringMatch } from '../config/model.js';
import type { PeerCertificate } from './context.js';
import { type ContextPredicate, compileHeaderMatcher } from './header-match.js';
import { compileCidr } from './ip.js';
import { compileMetadataMatcher } from './metadata-match.js';
import { flip, type Polarity } from './polarity.js';

const always: ContextPredicate = () => true;

function and(list: ContextPredicate[]): ContextPredicate {
  if (list.length === 0) return always;
  if (list.length === 1) return list[0]!;
  if (list.length === 2) {
    const [a, b] = list as [ContextPredicate, ContextPredicate];
    return (ctx) => a(ctx) && b(ctx);
  }
  return (ctx) => {
    for (let i = 0; i < list.length; i++) if (!list[i]!(ctx)) return false;
    return true;
  };
}

function or(list: ContextPredicate[]): ContextPredicate {
  if (list.length === 0) return () => false;
  if (list.length === 1) return list[0]!;
  if (list.length === 2) {
    const [a, b] = list as [ContextPredicate, ContextPredicate];
    return (ctx) => a(ctx) || b(ctx);
  }
  return (ctx) => {
    for (let i = 0; i < list.length; i++) if (list[i]!(ctx)) return true;
    return false;
  };
}

function not(p: ContextPredicate): ContextPredicate {
  return (ctx) => !p(ctx);
}

// The last path stripped of its query: several url_path matchers of one request then share one substring.
let lastPath = '';
let lastStripped = '';

function withoutQuery(path: string): string {
  if (path === lastPath) return lastStripped;
  let end = path.length;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 63 || c === 35) {
      end = i;
      break;
    }
  }
  lastPath = path;
  lastStripped = end === path.length ? path : path.slice(0, end);
  return lastStripped;
}

/** RBAC's url_path: the path without query or fragment. Absent on a connection, so it resolves by polarity. */
function urlPath(match: StringMatch, polarity: Polarity): ContextPredicate {
  return (ctx) => {
    const path = ctx.path;
    if (path === undefined) return polarity === 'deny';
    return match.test(withoutQuery(path));
  };
}

/** Envoy's authenticated matcher: any URI SAN, then any DNS SAN, then the subject; never on plaintext. */
function authenticated(match: StringMatch | undefined): ContextPredicate {
  if (!match) return (ctx) => ctx.peer !== undefined;
  const test = (peer: PeerCertificate) => {
    for (const uri of peer.uriSans) if (match.test(uri)) return true;
    for (const dns of peer.dnsSans) if (match.test(dns)) return true;
    return match.test(peer.subject);
  };
  return (ctx) => ctx.peer !== undefined && test(ctx.peer);
}

export interface CompileScope {
  /** Names the policy in errors: `RBAC policy "ns[default]-policy[x]-rule[0]"`. */
  where: string;
  polarity: Polarity;
}

export function compilePermission(p: RbacPermission, scope: CompileScope): ContextPredicate {
  const { polarity, where } = scope;
  switch (p.kind) {
    case 'any':
      return always;
    case 'and':
      return and(p.rules.map((r) => compilePermission(r, scope)));
    case 'or':
      return or(p.rules.map((r) => compilePermission(r, scope)));
    case 'not':
      return not(compilePermission(p.rule, { where, polarity: flip(polarity) }));
    case 'header':
      return compileHeaderMatcher(p.matcher, polarity);
    case 'urlPath':
      return urlPath(p.match, polarity);
    case 'destinationIp': {
      const inRange = compileCidr(p.cidr, `${where} destination_ip`);
      return (ctx) => inRange(ctx.destinationIp);
    }
    case 'destinationPort': {
      const port = p.port;
      return (ctx) => ctx.destinationPort === port;
    }
    case 'requestedServerName': {
      const match = p.match;
      return (ctx) => match.test(ctx.requestedServerName);
    }
    case 'metadata': {
      const matches = compileMetadataMatcher(p.matcher);
      return (ctx) => matches(ctx.metadata);
    }
    default:
      throw new TrellisError(
        'RBAC_CONFIG',
        `${where}: unsupported permission "${(p as { kind: string }).kind}"`,
      );
  }
}

export function compilePrincipal(p: RbacPrincipal, scope: CompileScope): ContextPredicate {
  const { polarity, where } = scope;
  switch (p.kind) {
    case 'any':
      return always;
    case 'and':
      return and(p.ids.map((r) => compilePrincipal(r, scope)));
    case 'or':
      return or(p.ids.map((r) => compilePrincipal(r, scope)));
    case 'not':
      return not(compilePrincipal(p.id, { where, polarity: flip(polarity) }));
    case 'authenticated':
      return authenticated(p.principalName);
    case 'directRemoteIp':
    case 'sourceIp': {
      // Without PROXY protocol the source address is the socket peer.
      const inRange = compileCidr(
        p.cidr,
        `${where} ${p.kind === 'sourceIp' ? 'source_ip' : 'direct_remote_ip'}`,
      );
      return (ctx) => inRange(ctx.directRemoteIp);
    }
    case 'remoteIp': {
      const inRange = compileCidr(p.cidr, `${where} remote_ip`);
      return (ctx) => inRange(ctx.remoteIp);
    }
    case 'header':
      return compileHeaderMatcher(p.matcher, polarity);
    case 'urlPath':
      return urlPath(p.match, polarity);
    case 'metadata': {
      const matches = compileMetadataMatcher(p.matcher);
      return (ctx) => matches(ctx.metadata);
    }
    default:
      throw new TrellisError(
        'RBAC_CONFIG',
        `${where}: unsupported principal "${(p as { kind: string }).kind}"`,
      );
  }
}

/** A policy matches when any of its permissions and any of its principals match (Envoy's `Policy`). */
export function compilePolicy(
  policy: { name: string; permissions: readonly RbacPermission[]; principals: readonly RbacPrincipal[] },
  scope: { where: string; polarity: Polarity },
): ContextPredicate {
  const where = `${scope.where} policy "${policy.name}"`;
  if (policy.permissions.length === 0 || policy.principals.length === 0) {
    // Envoy's validation requires at least one of each; a silently empty DENY would deny nothing.
    throw new TrellisError('RBAC_CONFIG', `${where}: needs at least one permission and one principal`);
  }
  const inner = { where, polarity: scope.polarity };
  const permissions = or(policy.permissions.map((p) => compilePermission(p, inner)));
  const principals = or(policy.principals.map((p) => compilePrincipal(p, inner)));
  return (ctx) => permissions(ctx) && principals(ctx);
}
