// Security test fixtures: inbound HCMs decoded from the control plane's Envoy JSON, filter JSON in its shape, helpers.

import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import type { AccessLogConfig, HcmConfig } from '../../../src/sidecar/config/model.js';
import { listenerFromJson } from '../../../src/sidecar/config/testing/resources.js';
import { GOLDEN_DIR } from '../config/goldens.js';
import { type Reply, startUpstream, type Upstream } from './harness.js';

/** The inbound cluster Istio's inbound route points at (`inbound|9080||`). */
export const INBOUND_CLUSTER = 'inbound|9080||';

const T = 'type.googleapis.com/';
const ROUTER = {
  name: 'envoy.filters.http.router',
  typedConfig: { '@type': `${T}envoy.extensions.filters.http.router.v3.Router` },
};

type Json = Record<string, unknown>;

/** Access log records carry the status, flags and response code details the tests check. */
const RECORDED: AccessLogConfig = {
  path: '/dev/null',
  format: { kind: 'text', text: '%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\n' },
};

export interface InboundHcmOptions {
  /** The filter chain of virtualInbound (default `9080-mtls-http`). */
  chain?: string;
  /** Replaces the golden's HTTP filters (the router is appended), as Envoy JSON. */
  httpFilters?: Json[];
  /** HCM fields to set on top of the golden's (`mergeSlashes`, `pathWithEscapedSlashesAction`...). */
  hcm?: Json;
}

/**
 * The connection manager of one virtualInbound filter chain exactly as the control plane emitted it for a golden
 * case (`authorization/reviews-v1`), optionally with other filters, decoded by the sidecar's own decoders.
 * Access logging is switched on so tests can read `response_code_details` from `telemetry.records`.
 */
export function inboundHcm(golden: string, opts: InboundHcmOptions = {}): HcmConfig {
  const [dir, proxy] = golden.split('/');
  const file = JSON.parse(readFileSync(join(GOLDEN_DIR, dir!, `${proxy}.golden.json`), 'utf8')) as {
    listeners: Json[];
  };
  const listener = file.listeners.find((l) => l.name === 'virtualInbound');
  if (listener === undefined) throw new Error(`${golden} has no virtualInbound listener`);
  const chainName = opts.chain ?? '9080-mtls-http';
  const chains = listener.filterChains as Json[];
  const chain = chains.find((c) => c.name === chainName);
  if (chain === undefined) throw new Error(`${golden}: no filter chain "${chainName}" on virtualInbound`);
  const hcmFilter = (chain.filters as Json[]).find(
    (f) => f.name === 'envoy.filters.network.http_connection_manager',
  );
  if (hcmFilter === undefined) throw new Error(`${golden}: chain "${chainName}" holds no HCM`);
  const typed = hcmFilter.typedConfig as Json;
  if (opts.httpFilters !== undefined) typed.httpFilters = [...opts.httpFilters, ROUTER];
  Object.assign(typed, opts.hcm ?? {});
  const decoded = listenerFromJson({ ...listener, filterChains: [chain] });
  const terminal = decoded.filterChains[0]!.terminal;
  if (terminal.kind !== 'http') throw new Error(`${golden}: chain "${chainName}" is not HTTP`);
  return { ...terminal.hcm, accessLog: [RECORDED] };
}

// --- filters in the shape translate/security.ts emits them ---

/** `envoy.filters.http.rbac` with enforced rules (ALLOW when `action` is omitted, as proto3 JSON prints it). */
export function rbacJson(rules: { action?: 'DENY' | 'LOG'; policies?: Record<string, Json> }): Json {
  return {
    name: 'envoy.filters.http.rbac',
    typedConfig: { rules, '@type': `${T}envoy.extensions.filters.http.rbac.v3.RBAC` },
  };
}

/** One RBAC policy: any of the permissions and any of the principals. */
export function policyJson(permissions: Json[], principals: Json[]): Json {
  return { permissions, principals };
}

export const ANY: Json = { any: true };

export function methodIs(method: string): Json {
  return { header: { name: ':method', stringMatch: { exact: method } } };
}

export function pathPrefix(prefix: string): Json {
  return { urlPath: { path: { prefix } } };
}

export function pathExact(path: string): Json {
  return { urlPath: { path: { exact: path } } };
}

/** `request.auth.*` in `istio_authn`, as AuthorizationPolicy's requestPrincipals and claims translate. */
export function requestPrincipalIs(regexOrExact: { regex: string } | { exact: string }): Json {
  const stringMatch = 'regex' in regexOrExact ? { safeRegex: { regex: regexOrExact.regex } } : regexOrExact;
  return {
    metadata: {
      filter: 'istio_authn',
      path: [{ key: 'request.auth.principal' }],
      value: { stringMatch },
    },
  };
}

export function claimHas(claim: string, value: string): Json {
  return {
    metadata: {
      filter: 'istio_authn',
      path: [{ key: 'request.auth.claims' }, { key: claim }],
      value: { listMatch: { oneOf: { stringMatch: { exact: value } } } },
    },
  };
}

export interface ProviderJson {
  issuer: string;
  jwks: string;
  audiences?: string[];
  forward?: boolean;
  fromHeaders?: { name: string; valuePrefix?: string }[];
  fromParams?: string[];
  forwardPayloadHeader?: string;
  claimToHeaders?: { headerName: string; claimName: string }[];
}

/** `envoy.filters.http.jwt_authn` as RequestAuthentication translates: any provider, or no token at all. */
export function jwtAuthnJson(providers: ProviderJson[]): Json {
  const named: Record<string, Json> = {};
  const requirements: Json[] = [];
  providers.forEach((p, i) => {
    const name = `origins-${i}-${p.issuer}`;
    const { jwks, ...rest } = p;
    named[name] = { ...rest, localJwks: { inlineString: jwks }, payloadInMetadata: p.issuer };
    requirements.push({ providerName: name });
  });
  requirements.push({ allowMissing: {} });
  return {
    name: 'envoy.filters.http.jwt_authn',
    typedConfig: {
      providers: named,
      rules: [{ match: { prefix: '/' }, requires: { requiresAny: { requirements } } }],
      '@type': `${T}envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication`,
    },
  };
}

export interface ExtAuthzJson {
  /** `http` (envoyExtAuthzHttp) or `grpc` (envoyExtAuthzGrpc). */
  kind: 'http' | 'grpc';
  cluster: string;
  timeout?: string;
  includeRequestHeadersInCheck?: string[];
  headersToUpstreamOnAllow?: string[];
  headersToDownstreamOnDeny?: string[];
  failOpen?: boolean;
}

/** A header list as translate/security.ts writes it; absent lists stay absent (proto3 JSON has no undefined). */
function patterns(field: string, names: string[] | undefined): Json {
  return names === undefined
    ? {}
    : { [field]: { patterns: names.map((exact) => ({ exact, ignoreCase: true })) } };
}

/**
 * Istio's CUSTOM action: a shadow RBAC filter naming the policies (prefixed `istio-ext-authz-`) under
 * `istio_ext_authz_`, then ext_authz enabled only when that shadow engine matched.
 */
export function customJson(policies: Record<string, Json>, ext: ExtAuthzJson): Json[] {
  const shadow = {
    name: 'envoy.filters.http.rbac',
    typedConfig: {
      shadowRules: {
        action: 'DENY',
        policies: Object.fromEntries(Object.entries(policies).map(([k, v]) => [`istio-ext-authz-${k}`, v])),
      },
      shadowRulesStatPrefix: 'istio_ext_authz_',
      '@type': `${T}envoy.extensions.filters.http.rbac.v3.RBAC`,
    },
  };
  const timeout = ext.timeout ?? '600s';
  const service =
    ext.kind === 'http'
      ? {
          httpService: {
            serverUri: { uri: 'http://ext-authz.foo.svc.cluster.local:8000', cluster: ext.cluster, timeout },
            authorizationRequest: patterns('allowedHeaders', ext.includeRequestHeadersInCheck),
            authorizationResponse: {
              ...patterns('allowedUpstreamHeaders', ext.headersToUpstreamOnAllow),
              ...patterns('allowedClientHeaders', ext.headersToDownstreamOnDeny),
            },
          },
        }
      : { grpcService: { envoyGrpc: { clusterName: ext.cluster }, timeout } };
  const extAuthz = {
    name: 'envoy.filters.http.ext_authz',
    typedConfig: {
      ...service,
      statusOnError: { code: 'Forbidden' },
      transportApiVersion: 'V3',
      failureModeAllow: ext.failOpen ?? false,
      filterEnabledMetadata: {
        filter: 'envoy.filters.http.rbac',
        path: [{ key: 'istio_ext_authz_shadow_effective_policy_id' }],
        value: { stringMatch: { prefix: 'istio-ext-authz' } },
      },
      '@type': `${T}envoy.extensions.filters.http.ext_authz.v3.ExtAuthz`,
    },
  };
  return [shadow, extAuthz];
}

// --- clients and apps ---

/** What an echo app answers: the request line and headers it received. */
export interface Echo {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/** An app that answers every request with what it received (`Echo` as JSON). */
export function startEcho(): Promise<Upstream> {
  return startUpstream((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
  });
}

export function echoOf(reply: Reply): Echo {
  return JSON.parse(reply.body) as Echo;
}

export interface ClientCert {
  certPem: string;
  keyPem: string;
  caPem: string;
}

/** One HTTP/1.1 request over mTLS with a client certificate, on a fresh connection. */
export function mtlsRequest(
  port: number,
  cert: ClientCert,
  opts: { method?: string; path?: string; headers?: Record<string, string | string[]> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: opts.headers,
        agent: false,
        ca: cert.caPem,
        cert: cert.certPem,
        key: cert.keyPem,
        servername: 'localhost',
        // Mesh certificates name SPIFFE IDs, not DNS names; the test trusts its own CA.
        checkServerIdentity: () => undefined,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
