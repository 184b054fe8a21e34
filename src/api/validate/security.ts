// PeerAuthentication, AuthorizationPolicy and RequestAuthentication: shapes and Istio's policy rules.

import type { FieldPath } from '../messages.js';
import {
  arrayOf,
  bool,
  type CheckContext,
  enumOf,
  mapOf,
  object,
  opt,
  refine,
  report,
  req,
  type Schema,
  str,
} from '../schema/schema.js';
import type {
  AuthorizationPolicySpec,
  Condition,
  JWTRule,
  Operation,
  PeerAuthenticationSpec,
  RequestAuthenticationSpec,
  Rule,
  Source,
} from '../types/security.js';
import { duration, headerName, labelSelector, targetRef } from './common.js';
import { cidrError } from './names.js';

const MTLS = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] as const;

/** A selector and targetRef(s) pick workloads in different ways; Istio allows only one. */
function checkTargeting(
  spec: { selector?: unknown; targetRef?: unknown; targetRefs?: unknown[] },
  path: FieldPath,
  ctx: CheckContext,
): void {
  if (spec.targetRef && spec.targetRefs?.length) {
    report(ctx, [...path, 'targetRefs'], 'set either targetRef or targetRefs, not both', { atKey: true });
  }
  if (spec.selector && (spec.targetRef || spec.targetRefs?.length)) {
    report(ctx, [...path, 'selector'], 'set either selector or targetRef(s), not both', { atKey: true });
  }
}

export const peerAuthenticationSpec = (): Schema<PeerAuthenticationSpec> =>
  refine(
    object<PeerAuthenticationSpec>({
      selector: opt(labelSelector()),
      mtls: opt(object<{ mode?: (typeof MTLS)[number] }>({ mode: opt(enumOf(MTLS)) })),
      portLevelMtls: opt(
        mapOf(
          object<{ mode?: (typeof MTLS)[number] }>({ mode: opt(enumOf(MTLS)) }),
          refine(str(), (k, path, ctx) => {
            const n = Number(k);
            if (!/^\d+$/.test(k) || n < 1 || n > 65535)
              report(ctx, path, `port "${k}" must be a number 1-65535`, { atKey: true });
          }),
        ),
      ),
    }),
    (pa, path, ctx) => {
      if (pa.portLevelMtls && !Object.keys(pa.selector?.matchLabels ?? {}).length) {
        report(
          ctx,
          [...path, 'portLevelMtls'],
          'portLevelMtls needs a selector: namespace- and mesh-wide policies cannot set per-port modes',
          {
            atKey: true,
          },
        );
      }
      if (pa.portLevelMtls && Object.keys(pa.portLevelMtls).length === 0) {
        report(ctx, [...path, 'portLevelMtls'], 'portLevelMtls, if given, must list at least one port');
      }
    },
  );

const strings = () => arrayOf(str({ nonEmpty: true }));

const source = (): Schema<Source> =>
  object<Source>({
    principals: opt(strings()),
    notPrincipals: opt(strings()),
    requestPrincipals: opt(strings()),
    notRequestPrincipals: opt(strings()),
    namespaces: opt(strings()),
    notNamespaces: opt(strings()),
    ipBlocks: opt(strings()),
    notIpBlocks: opt(strings()),
    remoteIpBlocks: opt(strings()),
    notRemoteIpBlocks: opt(strings()),
    serviceAccounts: opt(strings()),
    notServiceAccounts: opt(strings()),
  });

const operation = (): Schema<Operation> =>
  object<Operation>({
    hosts: opt(strings()),
    notHosts: opt(strings()),
    ports: opt(strings()),
    notPorts: opt(strings()),
    methods: opt(strings()),
    notMethods: opt(strings()),
    paths: opt(strings()),
    notPaths: opt(strings()),
  });

const condition = (): Schema<Condition> =>
  object<Condition>({ key: req(str({ nonEmpty: true })), values: opt(strings()), notValues: opt(strings()) });

const rule = (): Schema<Rule> =>
  object<Rule>({
    from: opt(arrayOf(object<{ source: Source }>({ source: req(source()) }))),
    to: opt(arrayOf(object<{ operation: Operation }>({ operation: req(operation()) }))),
    when: opt(arrayOf(condition())),
  });

/** Keys of `when` conditions (istio.io reference: authorization conditions). */
function conditionKeyProblem(key: string): string | undefined {
  const mapKey =
    /^(request\.headers|request\.auth\.claims|experimental\.envoy\.filters\.[\w.]+)((\[[^\]]+\])+)$/.exec(
      key,
    );
  if (mapKey) return undefined;
  if (/^(request\.headers|request\.auth\.claims)(\[\])?$/.test(key))
    return `key "${key}" needs a name in brackets, e.g. ${key.replace('[]', '')}[x-token]`;
  const plain = [
    'source.ip',
    'remote.ip',
    'source.namespace',
    'source.principal',
    'request.auth.principal',
    'request.auth.audiences',
    'request.auth.presenter',
    'destination.ip',
    'destination.port',
    'connection.sni',
  ];
  if (plain.includes(key)) return undefined;
  return `unknown condition key "${key}"; valid keys are request.headers[<name>], ${plain.join(', ')}, request.auth.claims[<claim>], experimental.envoy.filters.*`;
}

function checkConditionValues(c: Condition, path: FieldPath, ctx: CheckContext): void {
  for (const field of ['values', 'notValues'] as const) {
    c[field]?.forEach((v, i) => {
      if (['source.ip', 'remote.ip', 'destination.ip'].includes(c.key)) {
        const p = cidrError(v);
        if (p) report(ctx, [...path, field, i], p);
      }
      if (c.key === 'destination.port' && !(/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535)) {
        report(ctx, [...path, field, i], `destination.port value "${v}" must be a port number 1-65535`);
      }
    });
  }
}

function checkRule(r: Rule, path: FieldPath, ctx: CheckContext, custom: boolean): void {
  if (r.from && r.from.length === 0)
    report(ctx, [...path, 'from'], '`from` must not be empty (omit it to match any source)');
  if (r.to && r.to.length === 0)
    report(ctx, [...path, 'to'], '`to` must not be empty (omit it to match any operation)');
  r.from?.forEach((f, i) => {
    const at = [...path, 'from', i, 'source'];
    const s = f.source;
    if (Object.keys(s).length === 0) report(ctx, at, '`source` must set at least one field');
    if (
      (s.serviceAccounts?.length || s.notServiceAccounts?.length) &&
      (s.principals?.length || s.notPrincipals?.length || s.namespaces?.length || s.notNamespaces?.length)
    ) {
      report(
        ctx,
        [...at, s.serviceAccounts ? 'serviceAccounts' : 'notServiceAccounts'],
        'serviceAccounts cannot be combined with principals or namespaces',
        { atKey: true },
      );
    }
    for (const field of ['serviceAccounts', 'notServiceAccounts'] as const) {
      s[field]?.forEach((sa, j) => {
        if (!/^[a-z0-9-]+\/[a-z0-9.-]+$/.test(sa))
          report(
            ctx,
            [...at, field, j],
            `service account "${sa}" must be <namespace>/<name>, without wildcards`,
          );
      });
    }
    for (const field of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) {
      s[field]?.forEach((ip, j) => {
        const p = cidrError(ip);
        if (p) report(ctx, [...at, field, j], p);
      });
    }
    for (const field of ['principals', 'notPrincipals'] as const) {
      s[field]?.forEach((p, j) => {
        if (p.startsWith('spiffe://')) {
          report(ctx, [...at, field, j], `principals are written without "spiffe://": "${p.slice(9)}"`, {
            fix: `write "${p.slice(9)}"`,
          });
        }
      });
    }
    if (custom && (s.requestPrincipals || s.notRequestPrincipals)) {
      report(
        ctx,
        at,
        'CUSTOM policies cannot match requestPrincipals (the JWT is checked after the external authorizer)',
      );
    }
  });
  r.to?.forEach((t, i) => {
    const at = [...path, 'to', i, 'operation'];
    const o = t.operation;
    if (Object.keys(o).length === 0) report(ctx, at, '`operation` must set at least one field');
    for (const field of ['ports', 'notPorts'] as const) {
      o[field]?.forEach((p, j) => {
        if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535)
          report(ctx, [...at, field, j], `port "${p}" must be a number 1-65535`);
      });
    }
    for (const field of ['paths', 'notPaths'] as const) {
      o[field]?.forEach((p, j) => {
        if (!p.includes('{')) return;
        const segments = p.split('/');
        const bad = segments.find((seg) => seg.includes('{') && seg !== '{*}' && seg !== '{**}');
        if (bad) report(ctx, [...at, field, j], `path template segment "${bad}" must be exactly {*} or {**}`);
        else if (segments.indexOf('{**}') >= 0 && segments.indexOf('{**}') !== segments.length - 1) {
          report(ctx, [...at, field, j], '{**} may only be the last segment of a path template');
        }
      });
    }
  });
  r.when?.forEach((c, i) => {
    const at = [...path, 'when', i];
    const p = conditionKeyProblem(c.key);
    if (p) report(ctx, [...at, 'key'], p);
    if (!c.values?.length && !c.notValues?.length)
      report(ctx, at, `condition "${c.key}" needs values or notValues`, { code: 'MissingField' });
    if (custom && c.key.startsWith('request.auth.')) {
      report(
        ctx,
        [...at, 'key'],
        `CUSTOM policies cannot use ${c.key} (the JWT is checked after the external authorizer)`,
      );
    }
    checkConditionValues(c, at, ctx);
  });
}

export const authorizationPolicySpec = (): Schema<AuthorizationPolicySpec> =>
  refine(
    object<AuthorizationPolicySpec>({
      selector: opt(labelSelector()),
      targetRef: opt(targetRef()),
      targetRefs: opt(arrayOf(targetRef())),
      rules: opt(arrayOf(rule())),
      action: opt(enumOf(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'])),
      provider: opt(object<{ name: string }>({ name: req(str({ nonEmpty: true })) })),
    }),
    (ap, path, ctx) => {
      checkTargeting(ap, path, ctx);
      const action = ap.action ?? 'ALLOW';
      if (action === 'CUSTOM') {
        if (!ap.provider)
          report(
            ctx,
            [...path, 'provider'],
            'action CUSTOM needs provider: {name: <extension provider in the mesh config>}',
            { code: 'MissingField' },
          );
        if (!ap.rules)
          report(
            ctx,
            [...path, 'rules'],
            'a CUSTOM policy without rules never triggers; add `rules: [{}]` to check every request',
            { code: 'MissingField' },
          );
      } else if (ap.provider) {
        report(ctx, [...path, 'provider'], `provider is only for action CUSTOM, not ${action}`, {
          atKey: true,
        });
      }
      if (action === 'DENY' && !ap.rules) {
        report(
          ctx,
          [...path, 'rules'],
          'a DENY policy without rules has no effect; add rules saying what to deny',
          { code: 'MissingField' },
        );
      }
      ap.rules?.forEach((r, i) => {
        checkRule(r, [...path, 'rules', i], ctx, action === 'CUSTOM');
      });
    },
  );

/** Minimal JWK Set check: valid JSON with keys of a known type and their required members. */
function jwksProblem(text: string): string | undefined {
  let set: unknown;
  try {
    set = JSON.parse(text);
  } catch (e) {
    return `jwks is not valid JSON: ${(e as Error).message}`;
  }
  const keys = (set as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0)
    return 'jwks must be a JWK Set: {"keys": [ ... ]} with at least one key';
  const needs: Record<string, string[]> = {
    RSA: ['n', 'e'],
    EC: ['crv', 'x', 'y'],
    OKP: ['crv', 'x'],
    oct: ['k'],
  };
  for (const [i, k] of keys.entries()) {
    const kty = (k as { kty?: unknown })?.kty;
    if (typeof kty !== 'string' || !(kty in needs))
      return `jwks key ${i} has kty ${JSON.stringify(kty)}; expected RSA, EC, OKP or oct`;
    const missing = needs[kty]!.filter((m) => typeof (k as Record<string, unknown>)[m] !== 'string');
    if (missing.length) return `jwks key ${i} (${kty}) is missing ${missing.join(', ')}`;
  }
  return undefined;
}

const jwtRule = (): Schema<JWTRule> =>
  refine(
    object<JWTRule>({
      issuer: req(str({ nonEmpty: true })),
      audiences: opt(strings()),
      jwksUri: opt(
        refine(str(), (u, path, ctx) => {
          let url: URL | undefined;
          try {
            url = new URL(u);
          } catch {
            url = undefined;
          }
          if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
            report(ctx, path, `jwksUri "${u}" must be an http or https URL`);
          }
        }),
      ),
      jwks: opt(
        refine(str(), (j, path, ctx) => {
          const p = jwksProblem(j);
          if (p) report(ctx, path, p);
        }),
      ),
      fromHeaders: opt(
        arrayOf(
          object<{ name: string; prefix?: string }>({
            name: req(headerName('header', { lowercase: 'warning' })),
            prefix: opt(str()),
          }),
        ),
      ),
      fromParams: opt(strings()),
      fromCookies: opt(strings()),
      outputPayloadToHeader: opt(headerName('header', { lowercase: 'warning' })),
      forwardOriginalToken: opt(bool()),
      outputClaimToHeaders: opt(
        arrayOf(
          object<{ header: string; claim: string }>({
            header: req(headerName('header', { lowercase: 'warning' })),
            claim: req(str({ nonEmpty: true })),
          }),
        ),
      ),
      timeout: opt(duration()),
    }),
    (r, path, ctx) => {
      if (r.jwks && r.jwksUri)
        report(ctx, [...path, 'jwksUri'], 'set either jwks or jwksUri, not both', { atKey: true });
      const seen = new Set<string>();
      r.outputClaimToHeaders?.forEach((o, i) => {
        const h = o.header.toLowerCase();
        if (seen.has(h))
          report(
            ctx,
            [...path, 'outputClaimToHeaders', i, 'header'],
            `header "${o.header}" is set by more than one claim`,
          );
        seen.add(h);
      });
    },
  );

export const requestAuthenticationSpec = (): Schema<RequestAuthenticationSpec> =>
  refine(
    object<RequestAuthenticationSpec>({
      selector: opt(labelSelector()),
      targetRef: opt(targetRef()),
      targetRefs: opt(arrayOf(targetRef())),
      jwtRules: opt(arrayOf(jwtRule())),
    }),
    checkTargeting,
  );
