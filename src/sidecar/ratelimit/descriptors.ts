// Rate limit descriptors from a route's `rate_limits` actions, computed per request as Envoy does.

import { isIP } from 'node:net';
import { TrellisError } from '../../shared/errors.js';
import type { RateLimit as RouteRateLimit } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import {
  compileHeaderMatchers,
  compileQueryMatchers,
  type HeaderLookup,
  type HeaderMatch,
} from './matchers.js';

export interface DescriptorEntry {
  key: string;
  value: string;
}

/** One descriptor: the ordered entries one `rate_limits` item produced for a request. */
export interface Descriptor {
  entries: DescriptorEntry[];
}

/** What the actions may look at in a request. */
export interface RateLimitRequestInfo {
  header: HeaderLookup;
  /** The trusted downstream address (after x-forwarded-for processing), without port. */
  remoteAddress: string;
  /** The local service cluster (`source_cluster`): Istio's `<workload>.<namespace>`. */
  sourceCluster?: string;
  /** The cluster the route sends to (`destination_cluster`). */
  destinationCluster?: string;
}

/**
 * One action. `append` returns the entry to add, `null` to add nothing but go on (a `skip_if_absent`
 * header), or `undefined` to drop the whole descriptor, as Envoy's `populateDescriptor` does.
 */
type Action = (req: RateLimitRequestInfo, query: () => URLSearchParams) => DescriptorEntry | null | undefined;

export interface RateLimitPolicyEntry {
  stage: number;
  actions: readonly Action[];
}

/** Decodes a route's or virtual host's `rate_limits`; unsupported actions are refused by name. */
export function rateLimitPolicyFromProto(
  list: readonly RouteRateLimit[],
  where: string,
): RateLimitPolicyEntry[] {
  return list.map((rl, i) => ({
    stage: rl.stage ?? 0,
    actions: rl.actions.map((a, j) =>
      compileAction(a.actionSpecifier, `${where}.rate_limits[${i}].actions[${j}]`),
    ),
  }));
}

function compileAction(spec: RouteRateLimit['actions'][number]['actionSpecifier'], where: string): Action {
  switch (spec.case) {
    case 'sourceCluster':
      return (req) => (req.sourceCluster ? { key: 'source_cluster', value: req.sourceCluster } : undefined);
    case 'destinationCluster':
      return (req) =>
        req.destinationCluster ? { key: 'destination_cluster', value: req.destinationCluster } : undefined;
    case 'requestHeaders': {
      const { headerName, descriptorKey, skipIfAbsent } = spec.value;
      const name = headerName.toLowerCase();
      return (req) => {
        const value = req.header(name);
        if (value === undefined) return skipIfAbsent ? null : undefined;
        return { key: descriptorKey, value };
      };
    }
    case 'remoteAddress':
      return (req) =>
        isIP(req.remoteAddress) ? { key: 'remote_address', value: req.remoteAddress } : undefined;
    case 'maskedRemoteAddress': {
      const v4 = spec.value.v4PrefixMaskLen ?? 32;
      const v6 = spec.value.v6PrefixMaskLen ?? 128;
      if (v4 > 32 || v6 > 128)
        throw new TrellisError('RATELIMIT_CONFIG', `${where}: mask length out of range`);
      return (req) => {
        const masked = maskAddress(req.remoteAddress, v4, v6);
        return masked === undefined ? undefined : { key: 'masked_remote_address', value: masked };
      };
    }
    case 'genericKey': {
      const entry = { key: spec.value.descriptorKey || 'generic_key', value: spec.value.descriptorValue };
      return () => entry;
    }
    case 'headerValueMatch': {
      const entry = { key: spec.value.descriptorKey || 'header_match', value: spec.value.descriptorValue };
      const expect = spec.value.expectMatch ?? true;
      const match: HeaderMatch = compileHeaderMatchers(spec.value.headers, where);
      return (req) => (match(req.header) === expect ? entry : undefined);
    }
    case 'queryParameterValueMatch': {
      const entry = { key: spec.value.descriptorKey || 'query_match', value: spec.value.descriptorValue };
      const expect = spec.value.expectMatch ?? true;
      const match = compileQueryMatchers(spec.value.queryParameters, where);
      return (_req, query) => (match(query()) === expect ? entry : undefined);
    }
    default:
      throw new TrellisError(
        'RATELIMIT_CONFIG',
        `${where}: rate limit action "${spec.case ?? '(none)'}" is not supported by the Trellis sidecar`,
      );
  }
}

/**
 * The `query_parameters` action (newer Envoy; the generated API predates it): the value of a query
 * parameter under `descriptorKey`.
 */
export function queryParameterAction(opts: {
  queryParameterName: string;
  descriptorKey: string;
  skipIfAbsent?: boolean;
}): Action {
  return (_req, query) => {
    const value = query().get(opts.queryParameterName);
    if (value === null) return opts.skipIfAbsent ? null : undefined;
    return { key: opts.descriptorKey, value };
  };
}

/** Every descriptor the policies of the given stage produce for a request. */
export function generateDescriptors(
  policies: readonly RateLimitPolicyEntry[],
  req: RateLimitRequestInfo,
  stage = 0,
): Descriptor[] {
  const out: Descriptor[] = [];
  let params: URLSearchParams | undefined;
  const query = () => {
    if (!params) {
      const path = req.header(':path') ?? '';
      const q = path.indexOf('?');
      params = new URLSearchParams(q === -1 ? '' : path.slice(q + 1));
    }
    return params;
  };
  for (const policy of policies) {
    if (policy.stage !== stage) continue;
    const entries: DescriptorEntry[] = [];
    let complete = true;
    for (const action of policy.actions) {
      const entry = action(req, query);
      if (entry === undefined) {
        complete = false;
        break;
      }
      if (entry !== null) entries.push(entry);
    }
    if (complete && entries.length > 0) out.push({ entries });
  }
  return out;
}

/** `192.168.1.1` with 24 → `192.168.1.0/24`; IPv6 in RFC 5952 form (`2001:db8::/64`). */
export function maskAddress(address: string, v4Len: number, v6Len: number): string | undefined {
  const family = isIP(address);
  if (family === 4) {
    const n = address.split('.').reduce((acc, o) => (acc << 8) | Number(o), 0) >>> 0;
    const mask = v4Len === 0 ? 0 : (0xffffffff << (32 - v4Len)) >>> 0;
    const m = (n & mask) >>> 0;
    return `${m >>> 24}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}/${v4Len}`;
  }
  if (family === 6) {
    const groups = expandV6(address);
    let bits = v6Len;
    const masked = groups.map((g) => {
      const keep = Math.max(0, Math.min(16, bits));
      bits -= 16;
      return keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff);
    });
    return `${compressV6(masked)}/${v6Len}`;
  }
  return undefined;
}

function expandV6(address: string): number[] {
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups first.
  const text = address.replace(
    /(\d+)\.(\d+)\.(\d+)\.(\d+)$/,
    (_m, a, b, c, d) =>
      `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
  );
  const [head = '', rest] = text.split('::');
  const h = head ? head.split(':').map((x) => Number.parseInt(x, 16)) : [];
  const r = rest ? rest.split(':').map((x) => Number.parseInt(x, 16)) : [];
  const fill = rest === undefined ? 0 : 8 - h.length - r.length;
  return [...h, ...new Array<number>(fill).fill(0), ...r];
}

function compressV6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * Which `rate_limits` apply to a request: the route's, plus the virtual host's under INCLUDE, or the
 * virtual host's only when the route has none (OVERRIDE, the default), or never (IGNORE).
 */
export function selectRateLimitPolicies(opts: {
  route: readonly RateLimitPolicyEntry[];
  virtualHost: readonly RateLimitPolicyEntry[];
  vhRateLimits?: 'OVERRIDE' | 'INCLUDE' | 'IGNORE';
}): readonly RateLimitPolicyEntry[] {
  switch (opts.vhRateLimits ?? 'OVERRIDE') {
    case 'INCLUDE':
      return [...opts.route, ...opts.virtualHost];
    case 'IGNORE':
      return opts.route;
    default:
      return opts.route.length > 0 ? opts.route : opts.virtualHost;
  }
}
