// Which resources apply to a service or a workload: host rules by Istio's name resolution, policies by selector.

import type { ConfigItem } from './types.js';

export interface AppliesToTarget {
  /** Service FQDNs (`reviews.default.svc.cluster.local`) the traffic is addressed to. */
  hosts: string[];
  /** Namespace of the workloads. */
  namespace: string;
  /** Label sets of the workloads' pods (one per workload); empty when unknown. */
  labels: Record<string, string>[];
}

export interface AppliesToOptions {
  /** Istio's root namespace: policies there apply mesh-wide. Default `istio-system`. */
  rootNamespace?: string;
  domainSuffix?: string;
}

/** Kinds that name hosts, and where. */
const HOST_FIELDS: Record<string, (spec: Record<string, unknown>) => unknown[]> = {
  VirtualService: (s) => asArray(s.hosts),
  DestinationRule: (s) => [s.host],
  ServiceEntry: (s) => asArray(s.hosts),
};

/** Kinds that select workloads by labels, and where the labels are. */
const SELECTOR_FIELDS: Record<string, (spec: Record<string, unknown>) => unknown> = {
  AuthorizationPolicy: (s) => (s.selector as Record<string, unknown> | undefined)?.matchLabels,
  PeerAuthentication: (s) => (s.selector as Record<string, unknown> | undefined)?.matchLabels,
  RequestAuthentication: (s) => (s.selector as Record<string, unknown> | undefined)?.matchLabels,
  Telemetry: (s) => (s.selector as Record<string, unknown> | undefined)?.matchLabels,
  WasmPlugin: (s) => (s.selector as Record<string, unknown> | undefined)?.matchLabels,
  Sidecar: (s) => (s.workloadSelector as Record<string, unknown> | undefined)?.labels,
  EnvoyFilter: (s) => (s.workloadSelector as Record<string, unknown> | undefined)?.labels,
};

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Istio's ResolveShortnameToFQDN: a name without dots is relative to the resource's namespace. */
export function resolveHost(host: string, namespace: string, domainSuffix = 'cluster.local'): string {
  if (host === '*' || host.includes('.')) return host;
  return `${host}.${namespace}.svc.${domainSuffix}`;
}

/** `*` matches everything, `*.suffix` any host ending in `.suffix`; otherwise exact. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

function selects(selector: unknown, labels: Record<string, string>): boolean {
  if (typeof selector !== 'object' || selector === null) return true;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function hasSelector(selector: unknown): boolean {
  return typeof selector === 'object' && selector !== null && Object.keys(selector).length > 0;
}

/**
 * Host-based resources match when one of their hosts (resolved in their namespace) covers one of the
 * target's hosts. Selector-based resources match in the target's namespace or the root namespace, when
 * they have no selector or their selector matches one of the label sets. With no known label sets, only
 * selector-less policies match (the workloads' labels decide the rest).
 */
export function configAppliesTo(
  items: readonly ConfigItem[],
  target: AppliesToTarget,
  opts: AppliesToOptions = {},
): ConfigItem[] {
  const root = opts.rootNamespace ?? 'istio-system';
  return items.filter((item) => {
    const spec = (item.spec ?? {}) as Record<string, unknown>;
    const hostsOf = HOST_FIELDS[item.kind];
    if (hostsOf) {
      const patterns = hostsOf(spec)
        .filter((h): h is string => typeof h === 'string')
        .map((h) => resolveHost(h, item.namespace, opts.domainSuffix));
      return target.hosts.some((host) => patterns.some((p) => hostMatches(p, host)));
    }
    const selectorOf = SELECTOR_FIELDS[item.kind];
    if (selectorOf) {
      if (item.namespace !== target.namespace && item.namespace !== root) return false;
      const selector = selectorOf(spec);
      if (!hasSelector(selector)) return true;
      return target.labels.some((labels) => selects(selector, labels));
    }
    return false;
  });
}
