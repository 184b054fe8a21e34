// envoyproxy/ratelimit's YAML config: domains of nested descriptors with limits, validated with paths.

import { parseAllDocuments } from 'yaml';
import { TrellisError } from '../shared/errors.js';
import { isUnit, type RateLimitUnit } from './units.js';

/** A limit attached to a descriptor path. */
export interface RateLimitRule {
  /** `domain.key_value.key` as the reference service names stats. */
  fullKey: string;
  requestsPerUnit: number;
  unit: RateLimitUnit;
  /** Matches but never limits (and is never counted). */
  unlimited: boolean;
  /** Counts and reports but always answers OK. */
  shadowMode: boolean;
  /** Stats per descriptor value rather than per config key. */
  detailedMetric: boolean;
  name: string;
}

export interface DescriptorNode {
  /** Children by `key_value` (or `key` when the config gives no value). */
  readonly children: ReadonlyMap<string, DescriptorNode>;
  /** Keys ending in `*` (prefix wildcards on the value), in config order. */
  readonly wildcardKeys: readonly string[];
  readonly rule: RateLimitRule | undefined;
}

export interface RateLimitConfigSet {
  readonly domains: ReadonlyMap<string, DescriptorNode>;
}

const TOP_KEYS = new Set(['domain', 'descriptors']);
const DESCRIPTOR_KEYS = new Set([
  'key',
  'value',
  'rate_limit',
  'descriptors',
  'shadow_mode',
  'detailed_metric',
]);
const LIMIT_KEYS = new Set(['unit', 'requests_per_unit', 'unlimited', 'name', 'replaces']);

/**
 * Parses one or more YAML documents (or files: pass each text with its name) into one config set.
 * Errors name the source, the path inside it, and what is wrong.
 */
export function parseRateLimitConfig(sources: readonly { name: string; text: string }[]): RateLimitConfigSet {
  const domains = new Map<string, DescriptorNode>();
  for (const source of sources) {
    for (const doc of parseAllDocuments(source.text)) {
      if (doc.errors.length > 0) {
        throw new TrellisError('RATELIMIT_CONFIG', `${source.name}: ${doc.errors[0]!.message}`);
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) continue;
      const { domain, root } = parseDomain(value, source.name);
      if (domains.has(domain)) {
        throw new TrellisError(
          'RATELIMIT_CONFIG',
          `${source.name}: duplicate domain "${domain}" across config files`,
        );
      }
      domains.set(domain, root);
    }
  }
  return { domains };
}

function parseDomain(value: unknown, source: string): { domain: string; root: DescriptorNode } {
  const obj = asObject(value, source);
  unknownKeys(obj, TOP_KEYS, source);
  const domain = obj.domain;
  if (typeof domain !== 'string' || domain === '') {
    throw new TrellisError('RATELIMIT_CONFIG', `${source}: "domain" must be a non-empty string`);
  }
  const root = parseDescriptors(obj.descriptors, `${source}: descriptors`, domain);
  return { domain, root: { children: root.children, wildcardKeys: root.wildcardKeys, rule: undefined } };
}

function parseDescriptors(
  list: unknown,
  where: string,
  parentKey: string,
): { children: Map<string, DescriptorNode>; wildcardKeys: string[] } {
  const children = new Map<string, DescriptorNode>();
  const wildcardKeys: string[] = [];
  if (list === undefined || list === null) return { children, wildcardKeys };
  if (!Array.isArray(list)) throw new TrellisError('RATELIMIT_CONFIG', `${where}: must be a list`);
  list.forEach((item, i) => {
    const at = `${where}[${i}]`;
    const d = asObject(item, at);
    unknownKeys(d, DESCRIPTOR_KEYS, at);
    if (typeof d.key !== 'string' || d.key === '') {
      throw new TrellisError('RATELIMIT_CONFIG', `${at}: "key" must be a non-empty string`);
    }
    if (d.value !== undefined && typeof d.value !== 'string') {
      throw new TrellisError('RATELIMIT_CONFIG', `${at}: "value" must be a string`);
    }
    const compositeKey = d.value ? `${d.key}_${d.value}` : d.key;
    if (children.has(compositeKey)) {
      throw new TrellisError(
        'RATELIMIT_CONFIG',
        `${at}: duplicate descriptor "${compositeKey}" under "${parentKey}"`,
      );
    }
    const fullKey = `${parentKey}.${compositeKey}`;
    const rule = parseRule(d, at, fullKey);
    const nested = parseDescriptors(d.descriptors, `${at}.descriptors`, fullKey);
    children.set(compositeKey, { children: nested.children, wildcardKeys: nested.wildcardKeys, rule });
    if (typeof d.value === 'string' && d.value.endsWith('*')) wildcardKeys.push(compositeKey);
  });
  return { children, wildcardKeys };
}

function parseRule(d: Record<string, unknown>, at: string, fullKey: string): RateLimitRule | undefined {
  const shadowMode = bool(d.shadow_mode, `${at}.shadow_mode`);
  const detailedMetric = bool(d.detailed_metric, `${at}.detailed_metric`);
  if (d.rate_limit === undefined || d.rate_limit === null) return undefined;
  const rl = asObject(d.rate_limit, `${at}.rate_limit`);
  unknownKeys(rl, LIMIT_KEYS, `${at}.rate_limit`);
  const unlimited = bool(rl.unlimited, `${at}.rate_limit.unlimited`);
  const name = typeof rl.name === 'string' ? rl.name : '';
  if (unlimited) {
    if (rl.unit !== undefined || rl.requests_per_unit !== undefined) {
      throw new TrellisError(
        'RATELIMIT_CONFIG',
        `${at}.rate_limit: an unlimited limit must not set unit or requests_per_unit`,
      );
    }
    return { fullKey, requestsPerUnit: 0, unit: 'second', unlimited, shadowMode, detailedMetric, name };
  }
  const unit = typeof rl.unit === 'string' ? rl.unit.toLowerCase() : '';
  if (!isUnit(unit)) {
    throw new TrellisError(
      'RATELIMIT_CONFIG',
      `${at}.rate_limit.unit: "${String(rl.unit)}" is not one of second, minute, hour, day, month, year`,
    );
  }
  const rpu = rl.requests_per_unit;
  if (typeof rpu !== 'number' || !Number.isInteger(rpu) || rpu < 0 || rpu > 4294967295) {
    throw new TrellisError(
      'RATELIMIT_CONFIG',
      `${at}.rate_limit.requests_per_unit: must be an integer from 0 to 4294967295, got ${String(rpu)}`,
    );
  }
  return { fullKey, requestsPerUnit: rpu, unit, unlimited, shadowMode, detailedMetric, name };
}

function asObject(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new TrellisError('RATELIMIT_CONFIG', `${at}: expected a mapping`);
  }
  return v as Record<string, unknown>;
}

function unknownKeys(obj: Record<string, unknown>, allowed: ReadonlySet<string>, at: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.has(k)) {
      throw new TrellisError(
        'RATELIMIT_CONFIG',
        `${at}: unknown key "${k}" (expected one of ${[...allowed].join(', ')})`,
      );
    }
  }
}

function bool(v: unknown, at: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new TrellisError('RATELIMIT_CONFIG', `${at}: must be true or false`);
  return v;
}
