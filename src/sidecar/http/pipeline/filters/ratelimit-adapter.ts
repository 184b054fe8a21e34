// Decoded-config adapters: sidecar/config's rate limit types → sidecar/ratelimit's (identity once the models meet).

import { isIP } from 'node:net';
import type {
  HeaderMutation,
  GlobalRateLimitConfig as ModelGlobal,
  LocalRateLimitConfig as ModelLocal,
  RateLimitAction,
  RateLimitPolicy,
} from '../../../config/model.js';
import type { DescriptorEntry, RateLimitPolicyEntry } from '../../../ratelimit/descriptors.js';
import { queryParameterAction } from '../../../ratelimit/descriptors.js';
import type { GlobalRateLimitConfig } from '../../../ratelimit/global-config.js';
import type { AppendAction, HeaderToAdd } from '../../../ratelimit/headers.js';
import type { LocalRateLimitConfig } from '../../../ratelimit/local-config.js';
import { headerMatches } from '../router/route-match.js';

function appendAction(a: HeaderMutation['action']): AppendAction {
  switch (a) {
    case 'append':
      return 'APPEND_IF_EXISTS_OR_ADD';
    case 'addIfAbsent':
      return 'ADD_IF_ABSENT';
    default:
      return 'OVERWRITE_IF_EXISTS_OR_ADD';
  }
}

function headersToAdd(list: readonly HeaderMutation[]): HeaderToAdd[] {
  return list.map((m) => ({ name: m.key.toLowerCase(), value: m.value, action: appendAction(m.action) }));
}

const locals = new WeakMap<ModelLocal, LocalRateLimitConfig>();

/** The local rate limit config as LocalRateLimitFilter takes it (cached per config object: buckets follow it). */
export function localRateLimitConfig(m: ModelLocal): LocalRateLimitConfig {
  let c = locals.get(m);
  if (c === undefined) {
    c = {
      statPrefix: m.statPrefix,
      status: m.status < 400 ? 429 : m.status,
      tokenBucket: m.tokenBucket && { ...m.tokenBucket },
      filterEnabled: m.enabled.fraction,
      filterEnforced: m.enforced.fraction,
      requestHeadersToAddWhenNotEnforced: [],
      responseHeadersToAdd: headersToAdd(m.responseHeaders),
      descriptors: m.descriptors.map((d) => ({
        entries: d.entries.map((e) => ({ key: e.key, value: e.value })),
        tokenBucket: { ...d.tokenBucket },
      })),
      stage: 0,
      perConnection: false,
      xRateLimitHeaders: false,
      vhRateLimits: 'OVERRIDE',
      alwaysConsumeDefaultTokenBucket: true,
      rateLimitedAsResourceExhausted: false,
    };
    locals.set(m, c);
  }
  return c;
}

const globals = new WeakMap<ModelGlobal, GlobalRateLimitConfig>();

export function globalRateLimitConfig(m: ModelGlobal): GlobalRateLimitConfig {
  let c = globals.get(m);
  if (c === undefined) {
    c = {
      domain: m.domain,
      stage: m.stage,
      requestType: 'both',
      timeoutMs: m.timeoutMs > 0 ? m.timeoutMs : 20,
      failureModeDeny: m.failureModeDeny,
      rateLimitedAsResourceExhausted: false,
      serviceCluster: m.cluster || undefined,
      serviceAuthority: undefined,
      xRateLimitHeaders: m.enableXRateLimitHeaders,
      disableXEnvoyRateLimitedHeader: false,
      rateLimitedStatus: 429,
      responseHeadersToAdd: [],
      statusOnError: 500,
      statPrefix: '',
    };
    globals.set(m, c);
  }
  return c;
}

type Action = RateLimitPolicyEntry['actions'][number];

/** One route `rate_limits` action, compiled to the descriptor module's action shape. */
function compileAction(a: RateLimitAction): Action {
  switch (a.kind) {
    case 'requestHeaders': {
      const name = a.headerName.toLowerCase();
      return (req) => {
        const value = req.header(name);
        if (value === undefined) return a.skipIfAbsent ? null : undefined;
        return { key: a.descriptorKey, value };
      };
    }
    case 'remoteAddress':
      return (req) =>
        isIP(req.remoteAddress) ? { key: 'remote_address', value: req.remoteAddress } : undefined;
    case 'genericKey': {
      const entry: DescriptorEntry = { key: a.descriptorKey || 'generic_key', value: a.descriptorValue };
      return () => entry;
    }
    case 'headerValueMatch': {
      const entry: DescriptorEntry = { key: a.descriptorKey || 'header_match', value: a.descriptorValue };
      return (req) => {
        let all = true;
        for (const m of a.headers) {
          if (!headerMatches(m, req.header(m.name))) {
            all = false;
            break;
          }
        }
        return all === a.expectMatch ? entry : undefined;
      };
    }
    case 'destinationCluster':
      return (req) =>
        req.destinationCluster ? { key: 'destination_cluster', value: req.destinationCluster } : undefined;
    case 'sourceCluster':
      return (req) => (req.sourceCluster ? { key: 'source_cluster', value: req.sourceCluster } : undefined);
    case 'queryParameters':
      return queryParameterAction(a);
  }
}

const policies = new WeakMap<readonly RateLimitPolicy[], RateLimitPolicyEntry[]>();

/** A route's or virtual host's `rate_limits`, compiled once per config array. */
export function rateLimitPolicies(list: readonly RateLimitPolicy[]): readonly RateLimitPolicyEntry[] {
  if (list.length === 0) return [];
  let out = policies.get(list);
  if (out === undefined) {
    out = list.map((p) => ({ stage: p.stage, actions: p.actions.map(compileAction) }));
    policies.set(list, out);
  }
  return out;
}
