// The security part of an HTTP filter chain (jwt_authn, RBAC, ext_authz) run in config order, as Envoy runs it.

import type { Clock } from '../../shared/clock.js';
import { TrellisError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { HttpFilterConfig } from '../config/model.js';
import type { RequestContext } from './context.js';
import { ExtAuthzFilter } from './ext-authz/filter.js';
import type { CheckRequestInfo } from './ext-authz/grpc-check.js';
import type { ExtAuthzTransport } from './ext-authz/transport.js';
import { editedHeaders, emptyEdits, type HeaderEdits, type HeaderValue, mergeEdits } from './header-edits.js';
import { JwtAuthenticator } from './jwt/authenticator.js';
import { RBAC_DENIED_BODY, RBAC_DENIED_STATUS, RbacFilter } from './rbac-filter.js';

type Step =
  | { kind: 'jwt'; name: string; filter: JwtAuthenticator }
  | { kind: 'rbac'; name: string; filter: RbacFilter }
  | { kind: 'extAuthz'; name: string; filter: ExtAuthzFilter };

export type SecurityOutcome =
  | {
      action: 'continue';
      /** Changes for the upstream request (token removal, payload and claim headers, ext_authz headers). */
      headers: HeaderEdits;
      /** Headers for the client's response. */
      responseHeaders: HeaderValue[];
      /** The authenticated request principal (`<iss>/<sub>`), if any. */
      requestPrincipal: string | undefined;
    }
  | {
      action: 'reply';
      status: number;
      body: string;
      headers: HeaderValue[];
      /** Envoy's response flag (UAEX for ext_authz); undefined for RBAC and JWT denials. */
      flag: string | undefined;
      /** Envoy's response code details (`rbac_access_denied_matched_policy[...]`, `jwt_authn_access_denied{...}`). */
      details: string;
      /** The filter that answered (its name in the listener config). */
      filter: string;
    };

export interface HttpSecurityChainOptions {
  /** Required when the chain holds an ext_authz filter. */
  extAuthzTransport?: ExtAuthzTransport;
  clock?: Clock;
  logger?: Logger;
  /** Names the listener in errors and logs. */
  where?: string;
}

export interface SecurityRequestInfo extends CheckRequestInfo {}

/**
 * Compiled once per HCM config. Each filter sees the request as the filters before it left it (a token
 * removed by jwt_authn is gone for ext_authz; claim headers are there for RBAC). The first filter that answers
 * ends the chain. With Istio's filter order this gives AuthorizationPolicy's evaluation order: CUSTOM, then
 * DENY, then ALLOW, with AUDIT never deciding.
 */
export class HttpSecurityChain {
  readonly #steps: readonly Step[];

  constructor(filters: readonly HttpFilterConfig[], opts: HttpSecurityChainOptions = {}) {
    const where = opts.where ?? 'HTTP connection manager';
    const steps: Step[] = [];
    for (const f of filters) {
      switch (f.kind) {
        case 'jwt':
          steps.push({
            kind: 'jwt',
            name: f.name,
            filter: new JwtAuthenticator(f.config, { clock: opts.clock, logger: opts.logger, where }),
          });
          break;
        case 'rbac':
          steps.push({
            kind: 'rbac',
            name: f.name,
            filter: new RbacFilter(
              { rules: f.rules, shadowRules: f.shadowRules, shadowRulesStatPrefix: f.shadowRulesStatPrefix },
              { kind: 'http', where: `${where} filter "${f.name}"` },
            ),
          });
          break;
        case 'extAuthz': {
          if (!opts.extAuthzTransport) {
            throw new TrellisError(
              'EXT_AUTHZ_CONFIG',
              `${where} filter "${f.name}": no ext_authz transport given`,
            );
          }
          steps.push({
            kind: 'extAuthz',
            name: f.name,
            filter: new ExtAuthzFilter(f.config, {
              transport: opts.extAuthzTransport,
              clock: opts.clock,
              logger: opts.logger,
            }),
          });
          break;
        }
        default:
          // Routing, fault, CORS and rate limits belong to the HTTP layer.
          break;
      }
    }
    this.#steps = steps;
  }

  /** The compiled filters, for stats. */
  get filters(): readonly (JwtAuthenticator | RbacFilter | ExtAuthzFilter)[] {
    return this.#steps.map((s) => s.filter);
  }

  async process(request: RequestContext, info: SecurityRequestInfo = {}): Promise<SecurityOutcome> {
    let ctx = request;
    const edits = emptyEdits();
    const responseHeaders: HeaderValue[] = [];
    let requestPrincipal: string | undefined;
    const advance = (next: HeaderEdits) => {
      mergeEdits(edits, next);
      ctx = { ...ctx, headers: editedHeaders(ctx.headers, next) };
    };
    for (const step of this.#steps) {
      switch (step.kind) {
        case 'jwt': {
          const r = await step.filter.authenticate(ctx, { scheme: info.scheme });
          if (r.action === 'deny') {
            return {
              action: 'reply',
              status: r.status,
              body: r.body,
              headers: r.responseHeaders,
              flag: undefined,
              details: r.details,
              filter: step.name,
            };
          }
          requestPrincipal ??= r.principal;
          advance(r.headers);
          break;
        }
        case 'rbac': {
          const d = step.filter.checkRequest(ctx);
          if (!d.allowed) {
            return {
              action: 'reply',
              status: RBAC_DENIED_STATUS,
              body: RBAC_DENIED_BODY,
              headers: [],
              flag: undefined,
              details: d.details,
              filter: step.name,
            };
          }
          break;
        }
        case 'extAuthz': {
          const r = await step.filter.check(ctx, info);
          if (r.action === 'deny') {
            return {
              action: 'reply',
              status: r.status,
              body: r.body,
              headers: r.responseHeaders,
              flag: r.flag,
              details: r.error ? 'ext_authz_error' : 'ext_authz_denied',
              filter: step.name,
            };
          }
          if (r.action === 'allow') {
            advance(r.headers);
            responseHeaders.push(...r.responseHeaders);
          }
          break;
        }
      }
    }
    return { action: 'continue', headers: edits, responseHeaders, requestPrincipal };
  }
}
