// Which configured limit applies to a request descriptor (envoyproxy/ratelimit's GetLimit).

import type { DescriptorNode, RateLimitConfigSet, RateLimitRule } from './config.js';
import { unitFromProto } from './units.js';

/**
 * Walks the domain's tree entry by entry: `key_value` first, then a wildcard value (`foo*`) of the
 * previous level, then the bare `key`. A limit applies only if it sits at the depth of the last
 * entry; a request with more entries than the config has levels gets no limit. A limit override in
 * the request wins over the config.
 */
export function findLimit(
  config: RateLimitConfigSet,
  domain: string,
  descriptor: {
    entries: readonly { key: string; value: string }[];
    limit?: { requestsPerUnit: number; unit: number } | undefined;
  },
): RateLimitRule | undefined {
  const root = config.domains.get(domain);
  if (!root) return undefined;
  if (descriptor.limit) {
    const unit = unitFromProto(descriptor.limit.unit);
    if (unit) {
      return {
        fullKey: `${domain}.${descriptor.entries.map((e) => `${e.key}_${e.value}`).join('.')}`,
        requestsPerUnit: descriptor.limit.requestsPerUnit,
        unit,
        unlimited: false,
        shadowMode: false,
        detailedMetric: false,
        name: '',
      };
    }
  }
  let level: DescriptorNode = root;
  let rule: RateLimitRule | undefined;
  const entries = descriptor.entries;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    const finalKey = `${entry.key}_${entry.value}`;
    let next = level.children.get(finalKey);
    if (!next) {
      for (const wildcard of level.wildcardKeys) {
        if (finalKey.startsWith(wildcard.slice(0, -1))) {
          next = level.children.get(wildcard);
          break;
        }
      }
    }
    next ??= level.children.get(entry.key);
    if (next?.rule && i === entries.length - 1) rule = next.rule;
    if (!next || next.children.size === 0) {
      if (rule?.detailedMetric) rule = { ...rule, fullKey: `${rule.fullKey}_${entry.value}` };
      break;
    }
    level = next;
  }
  return rule;
}
