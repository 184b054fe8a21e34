// DestinationRules for a host as Istio looks them up: client namespace, then service namespace, then root namespace.

import type { DestinationRule, DestinationRuleSpec, Subset, TrafficPolicy } from '../../api/types/index.js';
import { namespaceOf, visibleTo } from './config-index.js';
import { hostMatches, hostSpecificity, resolveHost } from './hosts.js';
import { selectorMatches } from './labels.js';

/** The effective rule for one host: several rules merged (first subset name and first trafficPolicy win). */
export interface EffectiveDestinationRule {
  spec: DestinationRuleSpec;
  /** The rules that contributed, for messages and metadata. */
  sources: DestinationRule[];
}

export interface DestinationRuleIndex {
  lookup(opts: {
    proxyNamespace: string;
    proxyLabels: Record<string, string>;
    host: string;
    serviceNamespace: string;
  }): EffectiveDestinationRule | undefined;
}

interface Entry {
  dr: DestinationRule;
  host: string;
}

function merge(rules: DestinationRule[]): EffectiveDestinationRule {
  const first = rules[0]!;
  let trafficPolicy: TrafficPolicy | undefined;
  const subsets: Subset[] = [];
  const seen = new Set<string>();
  for (const r of rules) {
    trafficPolicy ??= r.spec.trafficPolicy;
    for (const s of r.spec.subsets ?? []) {
      if (seen.has(s.name)) continue;
      seen.add(s.name);
      subsets.push(s);
    }
  }
  return { spec: { ...first.spec, trafficPolicy, subsets }, sources: rules };
}

export function buildDestinationRuleIndex(
  list: readonly DestinationRule[],
  opts: { rootNamespace: string; domainSuffix: string },
): DestinationRuleIndex {
  const byNamespace = new Map<string, Entry[]>();
  for (const dr of list) {
    const ns = namespaceOf(dr);
    const entry = { dr, host: resolveHost(dr.spec.host, ns, opts.domainSuffix) };
    const l = byNamespace.get(ns);
    if (l) l.push(entry);
    else byNamespace.set(ns, [entry]);
  }
  const findIn = (
    ns: string,
    viewer: string,
    host: string,
    labels: Record<string, string>,
  ): DestinationRule[] => {
    const entries = byNamespace.get(ns) ?? [];
    let bestScore = -1;
    let best: DestinationRule[] = [];
    for (const e of entries) {
      if (!hostMatches(e.host, host)) continue;
      if (!visibleTo(e.dr.spec.exportTo, ns, viewer)) continue;
      // A workloadSelector narrows a rule to the selected client workloads in its own namespace.
      if (e.dr.spec.workloadSelector) {
        if (ns !== viewer || !selectorMatches(e.dr.spec.workloadSelector.matchLabels, labels)) continue;
      }
      const score = hostSpecificity(e.host) + (e.dr.spec.workloadSelector ? 0.5 : 0);
      if (score > bestScore) {
        bestScore = score;
        best = [e.dr];
      } else if (score === bestScore) best.push(e.dr);
    }
    return best;
  };
  return {
    lookup({ proxyNamespace, proxyLabels, host, serviceNamespace }) {
      for (const ns of [proxyNamespace, serviceNamespace, opts.rootNamespace]) {
        const found = findIn(ns, proxyNamespace, host, proxyLabels);
        if (found.length > 0) return merge(found);
      }
      return undefined;
    },
  };
}

/** The policy of one port: a matching portLevelSettings entry replaces the four policy blocks wholesale (fields
 *  it omits fall back to defaults, not to the destination level), as Istio's GetPortLevelTrafficPolicy does. */
function portLevel(
  policy: TrafficPolicy | undefined,
  port: number,
): { policy?: TrafficPolicy; hasPortLevel: boolean } {
  const pl = policy?.portLevelSettings?.find((p) => p.port?.number === port);
  if (!policy || !pl) return { policy, hasPortLevel: false };
  return {
    policy: {
      loadBalancer: pl.loadBalancer,
      connectionPool: pl.connectionPool,
      outlierDetection: pl.outlierDetection,
      tls: pl.tls,
      tunnel: policy.tunnel,
      proxyProtocol: policy.proxyProtocol,
      retryBudget: policy.retryBudget,
    },
    hasPortLevel: true,
  };
}

/**
 * The traffic policy for (rule, subset, port), as Istio's MergeSubsetTrafficPolicy computes it: the rule's
 * port-level settings first, then the subset's policy overriding per top-level field (each block replaced
 * whole, never deep-merged); a subset port-level entry replaces all four blocks.
 */
export function effectiveTrafficPolicy(
  rule: DestinationRuleSpec | undefined,
  subset: Subset | undefined,
  port: number,
): TrafficPolicy | undefined {
  const original = portLevel(rule?.trafficPolicy, port).policy;
  if (!subset?.trafficPolicy) return original;
  const { policy: sp, hasPortLevel } = portLevel(subset.trafficPolicy, port);
  if (!original) return sp;
  if (!sp) return original;
  return {
    connectionPool: sp.connectionPool || hasPortLevel ? sp.connectionPool : original.connectionPool,
    outlierDetection: sp.outlierDetection || hasPortLevel ? sp.outlierDetection : original.outlierDetection,
    loadBalancer: sp.loadBalancer || hasPortLevel ? sp.loadBalancer : original.loadBalancer,
    tls: sp.tls || hasPortLevel ? sp.tls : original.tls,
    tunnel: sp.tunnel ?? original.tunnel,
    proxyProtocol: sp.proxyProtocol ?? original.proxyProtocol,
    retryBudget: sp.retryBudget ?? original.retryBudget,
  };
}
