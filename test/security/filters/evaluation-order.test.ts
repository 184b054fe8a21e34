// AuthorizationPolicy's evaluation order, exhaustively: every mix of CUSTOM, DENY, ALLOW and AUDIT policies.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NodeExtAuthzTransport } from '../../../src/sidecar/security/ext-authz/node-transport.js';
import { decide, httpServer, spiffe, type TestServer } from './harness.js';
import { translateSecurity, type WorkloadSpec } from './istio.js';

const WORKLOADS: WorkloadSpec[] = [
  { app: 'httpbin', namespace: 'foo', serviceAccount: 'httpbin', ports: [{ name: 'http', port: 8000 }] },
  { app: 'ext-authz', namespace: 'foo', serviceAccount: 'ext-authz', ports: [{ name: 'http', port: 8000 }] },
];
const EXT_AUTHZ_CLUSTER = 'outbound|8000||ext-authz.foo.svc.cluster.local';
const MESH = {
  extensionProviders: [
    {
      name: 'sample-ext-authz-http',
      envoyExtAuthzHttp: {
        service: 'ext-authz.foo.svc.cluster.local',
        port: 8000,
        includeRequestHeadersInCheck: ['x-ext-authz'],
      },
    },
  ],
};

const policy = (name: string, action: string, header: string, extra = '') => `
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: ${action}
  ${extra}
  rules: [{ when: [{ key: "request.headers[${header}]", values: ["yes"] }] }]
`;
const POLICIES = {
  custom: policy('ext-authz', 'CUSTOM', 'x-custom', 'provider: { name: sample-ext-authz-http }'),
  deny: policy('deny', 'DENY', 'x-deny'),
  allow: policy('allow', 'ALLOW', 'x-allow'),
  audit: policy('audit', 'AUDIT', 'x-audit'),
};
type Kind = keyof typeof POLICIES;
const KINDS = Object.keys(POLICIES) as Kind[];

/** Istio's sample ext-authz server: allows `x-ext-authz: allow`, denies anything else with its own body. */
let extAuthz: TestServer;
let transport: NodeExtAuthzTransport;
const clusters: string[] = [];

before(async () => {
  extAuthz = await httpServer((req, res) => {
    if (req.headers['x-ext-authz'] === 'allow') {
      res.setHeader('x-ext-authz-check-result', 'allowed');
      res.end();
    } else {
      res.statusCode = 403;
      res.setHeader('x-ext-authz-check-result', 'denied');
      res.end('denied by ext_authz for not found header `x-ext-authz: allow` in the request');
    }
  });
  transport = new NodeExtAuthzTransport({
    resolve: (cluster) => {
      clusters.push(cluster);
      return { host: '127.0.0.1', port: extAuthz.port };
    },
  });
});

after(async () => {
  transport.close();
  await extAuthz.close();
});

interface Request {
  custom: 'no' | 'allow' | 'deny';
  deny: boolean;
  allow: boolean;
  audit: boolean;
}

const REQUESTS: Request[] = [];
for (const custom of ['no', 'allow', 'deny'] as const) {
  for (const deny of [false, true]) {
    for (const allow of [false, true]) {
      for (const audit of [false, true]) REQUESTS.push({ custom, deny, allow, audit });
    }
  }
}

/** Istio's documented order: a matching CUSTOM that denies, then any matching DENY, then ALLOW if any exist. */
function expected(present: Set<Kind>, r: Request): { status: number; by: string } {
  if (present.has('custom') && r.custom === 'deny') return { status: 403, by: 'ext_authz' };
  if (present.has('deny') && r.deny) return { status: 403, by: 'rbac' };
  if (!present.has('allow')) return { status: 200, by: '' };
  return r.allow ? { status: 200, by: '' } : { status: 403, by: 'rbac' };
}

describe('CUSTOM → DENY → ALLOW, AUDIT never deciding: the full truth table', () => {
  for (let mask = 0; mask < 16; mask++) {
    const present = new Set(KINDS.filter((_, i) => mask & (1 << i)));
    const label = present.size === 0 ? 'no policies' : [...present].join(' + ');
    test(label, async () => {
      const yaml = [...present].map((k) => POLICIES[k]).join('\n') || '{}';
      const filters = translateSecurity(yaml, WORKLOADS, { mesh: MESH })('httpbin', '8000-mtls-http').http;
      let checks = 0;
      let expectedChecks = 0;
      for (const r of REQUESTS) {
        const headers: Record<string, string> = {};
        if (r.custom !== 'no') {
          headers['x-custom'] = 'yes';
          headers['x-ext-authz'] = r.custom;
        }
        if (r.deny) headers['x-deny'] = 'yes';
        if (r.allow) headers['x-allow'] = 'yes';
        if (r.audit) headers['x-audit'] = 'yes';
        const before = extAuthz.requests.length;
        const { outcome, ctx } = await decide(filters, { headers, peer: spiffe('foo', 'sleep') }, transport);
        checks += extAuthz.requests.length - before;
        if (present.has('custom') && r.custom !== 'no') expectedChecks++;
        const want = expected(present, r);
        const what = `${label}: ${JSON.stringify(r)}`;
        if (want.status === 200) {
          assert.equal(outcome.action, 'continue', what);
          const hint = ctx.metadata.get('envoy.common')?.access_log_hint;
          assert.equal(hint, present.has('audit') ? r.audit : undefined, `${what}: audit hint`);
        } else {
          assert.ok(outcome.action === 'reply', what);
          assert.equal(outcome.status, want.status, what);
          if (want.by === 'rbac') assert.equal(outcome.body, 'RBAC: access denied', what);
          else {
            assert.equal(outcome.flag, 'UAEX', what);
            assert.match(outcome.body, /^denied by ext_authz/, what);
            // No allowed_client_headers: every header of the denial reaches the client, framing aside.
            assert.ok(
              outcome.headers.some((h) => h.name === 'x-ext-authz-check-result' && h.value === 'denied'),
              what,
            );
            assert.ok(
              !outcome.headers.some((h) => ['content-length', 'connection', 'host'].includes(h.name)),
              what,
            );
          }
        }
      }
      assert.equal(
        checks,
        expectedChecks,
        `${label}: the authorization service is asked only when a CUSTOM policy matches`,
      );
      assert.ok(clusters.every((c) => c === EXT_AUTHZ_CLUSTER));
    });
  }
});
