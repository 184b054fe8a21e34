// RBAC with Envoy's semantics, and the ways a request might try to slip past a policy.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isTrellisError } from '../../shared/errors.js';
import { compileHeaderMatcher, type HeaderMatcherSpec } from '../config/match/header-matcher.js';
import type { HeaderMatcher, RbacPermission, RbacPrincipal, RbacRules } from '../config/model.js';
import { stringMatch } from '../config/string-match.js';
import { RbacFilter } from './rbac-filter.js';
import { connectionContext, requestContext } from './testing/contexts.js';

const exact = (v: string, ignoreCase = false) => stringMatch('exact', v, ignoreCase);
const header = (name: string, m = exact('admin'), extra: Partial<HeaderMatcherSpec> = {}): HeaderMatcher =>
  compileHeaderMatcher({
    name,
    kind: 'string',
    match: m,
    invert: false,
    treatMissingAsEmpty: false,
    ...extra,
  });
const any = { kind: 'any' } as const;

function rules(
  action: RbacRules['action'],
  policies: Record<string, { permissions?: RbacPermission[]; principals?: RbacPrincipal[] }>,
): RbacRules {
  return {
    action,
    policies: Object.entries(policies).map(([name, p]) => ({
      name,
      permissions: p.permissions ?? [any],
      principals: p.principals ?? [any],
    })),
  };
}

const http = (r: RbacRules) => new RbacFilter({ rules: r }, { kind: 'http' });

describe('RBAC engine: Envoy semantics', () => {
  test('ALLOW passes only on a match; DENY only without one; the reply names the policy', () => {
    const allow = http(
      rules('ALLOW', { p: { permissions: [{ kind: 'header', matcher: header(':method', exact('GET')) }] } }),
    );
    assert.deepEqual(
      { ...allow.checkRequest(requestContext({ method: 'GET' })) },
      { allowed: true, policy: 'p', details: '' },
    );
    const refused = allow.checkRequest(requestContext({ method: 'POST' }));
    assert.equal(refused.allowed, false);
    assert.equal(refused.details, 'rbac_access_denied_matched_policy[none]');
    const deny = http(
      rules('DENY', { d: { permissions: [{ kind: 'header', matcher: header(':method', exact('GET')) }] } }),
    );
    assert.equal(
      deny.checkRequest(requestContext({ method: 'GET' })).details,
      'rbac_access_denied_matched_policy[d]',
    );
    assert.equal(deny.checkRequest(requestContext({ method: 'POST' })).allowed, true);
    assert.deepEqual(allow.stats, {
      allowed: 1,
      denied: 1,
      shadow_allowed: 0,
      shadow_denied: 0,
      logged: 0,
      not_logged: 0,
    });
  });

  test('policies are ORed, permissions and principals ORed within one, and/or/not compose', () => {
    const get = { kind: 'header', matcher: header(':method', exact('GET')) } as const;
    const admin = { kind: 'urlPath', match: stringMatch('prefix', '/admin') } as const;
    const r = http(
      rules('ALLOW', {
        a: { permissions: [{ kind: 'and', rules: [get, { kind: 'not', rule: admin }] }] },
        b: {
          permissions: [admin],
          principals: [
            { kind: 'authenticated', principalName: exact('spiffe://cluster.local/ns/default/sa/ops') },
          ],
        },
      }),
    );
    assert.equal(r.checkRequest(requestContext({ method: 'GET', path: '/x' })).policy, 'a');
    assert.equal(r.checkRequest(requestContext({ method: 'GET', path: '/admin/x' })).allowed, false);
    assert.equal(
      r.checkRequest(
        requestContext({
          method: 'POST',
          path: '/admin/x',
          peer: 'spiffe://cluster.local/ns/default/sa/ops',
        }),
      ).policy,
      'b',
    );
    const or = http(rules('DENY', { o: { permissions: [{ kind: 'or', rules: [] }] } }));
    assert.equal(or.checkRequest(requestContext()).allowed, true, 'an empty or matches nothing');
    const and = http(rules('DENY', { o: { permissions: [{ kind: 'and', rules: [] }] } }));
    assert.equal(and.checkRequest(requestContext()).allowed, false, 'an empty and matches everything');
  });

  test('when several policies match, the one reported is the first by name (Envoy keeps them in a sorted map)', () => {
    const r = http(rules('DENY', { zeta: {}, alpha: {}, mid: {} }));
    assert.equal(r.checkRequest(requestContext()).policy, 'alpha');
  });

  test('url_path ignores the query and fragment; :path does not', () => {
    const byUrl = http(rules('DENY', { d: { permissions: [{ kind: 'urlPath', match: exact('/admin') }] } }));
    assert.equal(byUrl.checkRequest(requestContext({ path: '/admin?x=1' })).allowed, false);
    assert.equal(byUrl.checkRequest(requestContext({ path: '/admin#frag' })).allowed, false);
    assert.equal(byUrl.checkRequest(requestContext({ path: '/admins' })).allowed, true);
    const byHeader = http(
      rules('DENY', { d: { permissions: [{ kind: 'header', matcher: header(':path', exact('/admin')) }] } }),
    );
    assert.equal(byHeader.checkRequest(requestContext({ path: '/admin?x=1' })).allowed, true);
  });

  test('authenticated: URI SANs, then DNS SANs, then the subject, and never a plaintext connection', () => {
    const ns = http(
      rules('ALLOW', {
        p: { principals: [{ kind: 'authenticated', principalName: stringMatch('regex', '.*/ns/foo/.*') }] },
      }),
    );
    assert.equal(
      ns.checkRequest(requestContext({ peer: 'spiffe://cluster.local/ns/foo/sa/a' })).allowed,
      true,
    );
    assert.equal(
      ns.checkRequest(requestContext({ peer: 'spiffe://cluster.local/ns/bar/sa/a' })).allowed,
      false,
    );
    assert.equal(ns.checkRequest(requestContext({})).allowed, false);
    const anyPeer = http(rules('ALLOW', { p: { principals: [{ kind: 'authenticated' }] } }));
    assert.equal(anyPeer.checkRequest(requestContext({ peer: 'spiffe://x/y' })).allowed, true);
    assert.equal(anyPeer.checkRequest(requestContext({})).allowed, false);
    const bySubject = http(
      rules('ALLOW', {
        p: { principals: [{ kind: 'authenticated', principalName: exact('CN=gw,O=acme') }] },
      }),
    );
    assert.ok(
      bySubject.checkRequest(
        requestContext({ peer: { uriSans: [], dnsSans: ['gw.acme'], subject: 'CN=gw,O=acme' } }),
      ).allowed,
    );
    const notPrincipal = http(
      rules('DENY', {
        d: {
          principals: [
            { kind: 'not', id: { kind: 'authenticated', principalName: exact('spiffe://td/ns/a/sa/b') } },
          ],
        },
      }),
    );
    assert.equal(
      notPrincipal.checkRequest(requestContext({})).allowed,
      false,
      'DENY notPrincipals denies plaintext',
    );
  });

  test('IP principals read the socket peer or the XFF-derived client address', () => {
    const direct = http(
      rules('ALLOW', {
        p: { principals: [{ kind: 'directRemoteIp', cidr: { address: '10.1.0.0', prefixLen: 16 } }] },
      }),
    );
    assert.ok(
      direct.checkRequest(requestContext({ directRemoteIp: '10.1.3.4', remoteIp: '1.2.3.4' })).allowed,
    );
    assert.ok(
      !direct.checkRequest(requestContext({ directRemoteIp: '10.2.3.4', remoteIp: '10.1.0.1' })).allowed,
    );
    const remote = http(
      rules('ALLOW', {
        p: { principals: [{ kind: 'remoteIp', cidr: { address: '2001:db8::', prefixLen: 32 } }] },
      }),
    );
    assert.ok(remote.checkRequest(requestContext({ remoteIp: '2001:db8::7' })).allowed);
    assert.ok(!remote.checkRequest(requestContext({ remoteIp: '10.0.0.1' })).allowed);
    const dest = http(
      rules('ALLOW', {
        p: {
          permissions: [
            {
              kind: 'and',
              rules: [
                { kind: 'destinationIp', cidr: { address: '10.1.0.1', prefixLen: 32 } },
                { kind: 'destinationPort', port: 9080 },
              ],
            },
          ],
        },
      }),
    );
    assert.ok(
      dest.checkRequest(requestContext({ destinationIp: '10.1.0.1', destinationPort: 9080 })).allowed,
    );
    assert.ok(
      !dest.checkRequest(requestContext({ destinationIp: '10.1.0.1', destinationPort: 9081 })).allowed,
    );
    const sni = http(
      rules('ALLOW', {
        p: { permissions: [{ kind: 'requestedServerName', match: stringMatch('suffix', '.foo.svc') }] },
      }),
    );
    assert.ok(sni.checkRequest(requestContext({ sni: 'a.foo.svc' })).allowed);
    assert.ok(!sni.checkRequest(requestContext({})).allowed);
  });

  test('missing headers follow HeaderUtility::matchHeaders (present, invert, treat missing as empty)', () => {
    const check = (spec: HeaderMatcher | HeaderMatcherSpec, headers: Record<string, string>) =>
      http(
        rules('ALLOW', {
          p: {
            permissions: [{ kind: 'header', matcher: 'matches' in spec ? spec : compileHeaderMatcher(spec) }],
          },
        }),
      ).checkRequest(requestContext({ headers })).allowed;
    assert.equal(check(header('x-a'), {}), false);
    assert.equal(check(header('x-a', exact('admin'), { invert: true }), {}), true);
    assert.equal(
      check({ name: 'x-a', kind: 'present', present: true, invert: false, treatMissingAsEmpty: false }, {}),
      false,
    );
    assert.equal(
      check({ name: 'x-a', kind: 'present', present: false, invert: false, treatMissingAsEmpty: false }, {}),
      true,
    );
    assert.equal(
      check({ name: 'x-a', kind: 'present', present: true, invert: true, treatMissingAsEmpty: false }, {}),
      false,
    );
    assert.equal(check(header('x-a', exact(''), { treatMissingAsEmpty: true }), {}), true);
    assert.equal(
      check(
        {
          name: 'x-n',
          kind: 'range',
          range: { start: 10, end: 20 },
          invert: false,
          treatMissingAsEmpty: false,
        },
        { 'x-n': '15' },
      ),
      true,
    );
    assert.equal(
      check(
        {
          name: 'x-n',
          kind: 'range',
          range: { start: 10, end: 20 },
          invert: false,
          treatMissingAsEmpty: false,
        },
        { 'x-n': '20' },
      ),
      false,
    );
    assert.equal(
      check(
        {
          name: 'x-n',
          kind: 'range',
          range: { start: 10, end: 20 },
          invert: false,
          treatMissingAsEmpty: false,
        },
        { 'x-n': '15.0' },
      ),
      false,
    );
    assert.equal(check(header('X-A'), { 'x-a': 'admin' }), true, 'header names are case-insensitive');
    assert.equal(check(header('host', exact('h')), {}), false);
  });

  test('Host and :authority are one attribute', () => {
    const r = http(
      rules('DENY', {
        d: { permissions: [{ kind: 'header', matcher: header('host', exact('httpbin.foo', true)) }] },
      }),
    );
    assert.equal(r.checkRequest(requestContext({ authority: 'HTTPBIN.foo' })).allowed, false);
  });
});

describe('RBAC engine: repeated headers cannot bypass a policy (CVE-2026-31838 class)', () => {
  const denyAdmin = http(
    rules('DENY', { d: { permissions: [{ kind: 'header', matcher: header('x-token', exact('admin')) }] } }),
  );
  const denyNotAdmin = http(
    rules('DENY', {
      d: {
        permissions: [{ kind: 'not', rule: { kind: 'header', matcher: header('x-token', exact('admin')) } }],
      },
    }),
  );
  const allowAdminPrefix = http(
    rules('ALLOW', {
      a: { permissions: [{ kind: 'header', matcher: header('x-token', stringMatch('prefix', 'adm')) }] },
    }),
  );
  const ordersOf = (values: string[]) => [values, [...values].reverse()];

  test('DENY x-token == admin: a second value, in any order, still denies', () => {
    for (const values of [
      ['admin'],
      ...ordersOf(['guest', 'admin']),
      ['a', 'admin', 'b'],
      ['admin', 'admin'],
    ]) {
      assert.equal(
        denyAdmin.checkRequest(requestContext({ headers: { 'x-token': values } })).allowed,
        false,
        JSON.stringify(values),
      );
    }
    assert.equal(
      denyAdmin.checkRequest(requestContext({ headers: { 'x-token': ['guest', 'other'] } })).allowed,
      true,
    );
  });

  test('DENY x-token != admin (notValues): adding "admin" beside another value does not escape', () => {
    for (const values of [...ordersOf(['admin', 'guest']), ['guest'], ['admin,guest'], ['admin', '']]) {
      assert.equal(
        denyNotAdmin.checkRequest(requestContext({ headers: { 'x-token': values } })).allowed,
        false,
        JSON.stringify(values),
      );
    }
    assert.equal(
      denyNotAdmin.checkRequest(requestContext({ headers: {} })).allowed,
      false,
      'no x-token is not admin',
    );
    assert.equal(
      denyNotAdmin.checkRequest(requestContext({ headers: { 'x-token': 'admin' } })).allowed,
      true,
    );
  });

  test('ALLOW needs every reading to match: an extra value cannot ride on a good one', () => {
    assert.equal(
      allowAdminPrefix.checkRequest(requestContext({ headers: { 'x-token': 'admin' } })).allowed,
      true,
    );
    for (const values of ordersOf(['admin', 'guest'])) {
      assert.equal(
        allowAdminPrefix.checkRequest(requestContext({ headers: { 'x-token': values } })).allowed,
        false,
        JSON.stringify(values),
      );
    }
    assert.equal(
      allowAdminPrefix.checkRequest(requestContext({ headers: { 'x-token': ['admin', 'adm2'] } })).allowed,
      true,
    );
  });

  test('an inverted matcher flips which way the readings combine', () => {
    const r = http(
      rules('DENY', {
        d: {
          permissions: [{ kind: 'header', matcher: header('x-token', exact('admin'), { invert: true }) }],
        },
      }),
    );
    assert.equal(
      r.checkRequest(requestContext({ headers: { 'x-token': ['admin', 'guest'] } })).allowed,
      false,
    );
    assert.equal(r.checkRequest(requestContext({ headers: { 'x-token': 'admin' } })).allowed, true);
  });
});

describe('RBAC engine on TCP connections', () => {
  test('HTTP-only attributes count as matching for DENY and as failing for ALLOW', () => {
    const denyGet = new RbacFilter(
      {
        rules: rules('DENY', {
          d: { permissions: [{ kind: 'header', matcher: header(':method', exact('GET')) }] },
        }),
      },
      { kind: 'network' },
    );
    assert.equal(denyGet.checkConnection(connectionContext()).allowed, false);
    const allowGet = new RbacFilter(
      { rules: rules('ALLOW', { a: { permissions: [{ kind: 'urlPath', match: exact('/') }] } }) },
      { kind: 'network' },
    );
    assert.equal(allowGet.checkConnection(connectionContext()).allowed, false);
    const denyNotGet = new RbacFilter(
      {
        rules: rules('DENY', {
          d: {
            permissions: [
              { kind: 'not', rule: { kind: 'header', matcher: header(':method', exact('GET')) } },
            ],
          },
        }),
      },
      { kind: 'network' },
    );
    assert.equal(
      denyNotGet.checkConnection(connectionContext()).allowed,
      false,
      'under not, still towards denial',
    );
    const allowPort = new RbacFilter(
      { rules: rules('ALLOW', { a: { permissions: [{ kind: 'destinationPort', port: 9100 }] } }) },
      { kind: 'network' },
    );
    assert.equal(allowPort.checkConnection(connectionContext({ destinationPort: 9100 })).allowed, true);
  });
});

describe('shadow rules and LOG', () => {
  test("shadow rules publish Envoy's metadata without enforcing anything", () => {
    const f = new RbacFilter(
      {
        shadowRules: rules('DENY', {
          'istio-ext-authz-ns[foo]-policy[ext]-rule[0]': {
            permissions: [{ kind: 'urlPath', match: exact('/headers') }],
          },
        }),
        shadowRulesStatPrefix: 'istio_ext_authz_',
      },
      { kind: 'http' },
    );
    const hit = requestContext({ path: '/headers' });
    assert.equal(f.checkRequest(hit).allowed, true);
    assert.deepEqual(hit.metadata.get('envoy.filters.http.rbac'), {
      istio_ext_authz_shadow_effective_policy_id: 'istio-ext-authz-ns[foo]-policy[ext]-rule[0]',
      istio_ext_authz_shadow_engine_result: 'denied',
    });
    const miss = requestContext({ path: '/ip' });
    assert.equal(f.checkRequest(miss).allowed, true);
    assert.deepEqual(miss.metadata.get('envoy.filters.http.rbac'), {
      istio_ext_authz_shadow_engine_result: 'allowed',
    });
    assert.equal(f.stats.shadow_denied, 1);
    assert.equal(f.stats.shadow_allowed, 1);
  });

  test('a network filter publishes under envoy.filters.network.rbac and merges with earlier fields', () => {
    const f = new RbacFilter(
      { shadowRules: rules('ALLOW', { a: {} }), shadowRulesStatPrefix: 'p_' },
      { kind: 'network' },
    );
    const ctx = connectionContext();
    ctx.metadata.set('envoy.filters.network.rbac', { earlier: 'kept' });
    f.checkConnection(ctx);
    assert.deepEqual(ctx.metadata.get('envoy.filters.network.rbac'), {
      earlier: 'kept',
      p_shadow_effective_policy_id: 'a',
      p_shadow_engine_result: 'allowed',
    });
  });

  test('LOG never denies, sets envoy.common access_log_hint, and a true hint is never overwritten by false', () => {
    const audit = http(
      rules('LOG', {
        audit: { permissions: [{ kind: 'header', matcher: header(':method', exact('DELETE')) }] },
      }),
    );
    const logged = requestContext({ method: 'DELETE' });
    assert.equal(audit.checkRequest(logged).allowed, true);
    assert.deepEqual(logged.metadata.get('envoy.common'), { access_log_hint: true });
    const quiet = requestContext({ method: 'GET' });
    assert.equal(audit.checkRequest(quiet).allowed, true);
    assert.deepEqual(quiet.metadata.get('envoy.common'), { access_log_hint: false });
    audit.checkRequest(logged);
    const again = requestContext({ method: 'GET' });
    again.metadata.set('envoy.common', { access_log_hint: true });
    audit.checkRequest(again);
    assert.deepEqual(again.metadata.get('envoy.common'), { access_log_hint: true });
    assert.equal(audit.stats.logged, 2);
    assert.equal(audit.stats.not_logged, 2);
  });

  test('a policy without permissions or principals is refused at compile time, naming it', () => {
    assert.throws(
      () =>
        http({
          action: 'DENY',
          policies: [{ name: 'empty', permissions: [], principals: [{ kind: 'any' }] }],
        }),
      (e) => isTrellisError(e, 'RBAC_CONFIG') && e.message.includes('"empty"'),
    );
  });
});
