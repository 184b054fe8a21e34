// Schemas shared across kinds: durations, ports, hosts, labels, selectors, string matches, header operations.

import { parseDuration } from '../../shared/duration.js';
import { checkRe2 } from '../../shared/re2.js';
import type { FieldPath } from '../messages.js';
import {
  arrayOf,
  type CheckContext,
  custom,
  describeValue,
  int,
  mapOf,
  num,
  object,
  opt,
  refine,
  report,
  req,
  type Schema,
  str,
} from '../schema/schema.js';
import type { Destination, HeaderOperations, Headers, Percent, PortSelector } from '../types/networking.js';
import type { LabelSelector, PolicyTargetReference } from '../types/security.js';
import {
  cidrError,
  ISTIO_PROTOCOLS,
  isDns1123Label,
  isIpAddress,
  isIstioProtocol,
  labelKeyError,
  labelValueError,
  wildcardDomainError,
} from './names.js';

export interface DurationOptions {
  /** Smallest accepted value in ms (Istio's default is 1 ms: "duration must be greater than 1ms"). */
  minMs?: number;
  maxMs?: number;
  /** Only whole seconds (CORS maxAge). */
  seconds?: boolean;
}

/** A Go/protobuf duration string: `1.5s`, `500ms`, `1m30s`. */
export function duration(opts: DurationOptions = {}): Schema<string> {
  const describe = 'a duration such as "1.5s", "500ms" or "1m"';
  return custom(describe, (v, path, ctx) => {
    if (typeof v !== 'string') {
      report(
        ctx,
        path,
        `must be ${describe}, got ${describeValue(v)}${typeof v === 'number' ? ` (write "${v}s")` : ''}`,
        {
          code: 'WrongType',
        },
      );
      return false;
    }
    const ms = parseDuration(v);
    if (ms === undefined || v.trim() !== v) {
      report(ctx, path, `must be ${describe}, got ${describeValue(v)}`);
      return true;
    }
    const min = opts.minMs ?? 1;
    if (ms < min) {
      report(
        ctx,
        path,
        min === 1
          ? `duration must be at least 1ms, got "${v}"`
          : `duration must be at least ${min}ms, got "${v}"`,
      );
      return true;
    }
    if (opts.maxMs !== undefined && ms > opts.maxMs) {
      report(ctx, path, `duration must be at most ${opts.maxMs / 1000}s, got "${v}"`);
      return true;
    }
    if (!Number.isInteger(Math.round(ms * 1e6) / 1e6)) {
      report(ctx, path, `only durations to millisecond precision are supported, got "${v}"`);
      return true;
    }
    if (opts.seconds && ms % 1000 !== 0) {
      report(ctx, path, `must be whole seconds, got "${v}"`);
      return true;
    }
    return true;
  });
}

export const port = (): Schema<number> => int({ min: 1, max: 65535 });

/** A string that must satisfy `problem` (which returns the message, or undefined when fine). */
export function checkedString(describe: string, problem: (s: string) => string | undefined): Schema<string> {
  return refine(str({ describe }), (v, path, ctx) => {
    const p = problem(v);
    if (p) report(ctx, path, p);
  });
}

export const dnsLabel = (what: string): Schema<string> =>
  checkedString(`a ${what}`, (s) =>
    isDns1123Label(s)
      ? undefined
      : `${what} "${s}" must be a lowercase DNS label (a-z, 0-9 and "-", at most 63)`,
  );

export const ipAddress = (): Schema<string> =>
  checkedString('an IP address', (s) => (isIpAddress(s) ? undefined : `"${s}" is not a valid IP address`));

export const cidr = (): Schema<string> => checkedString('an IP address or CIDR block', cidrError);

export const istioProtocol = (): Schema<string> =>
  checkedString('a protocol', (s) =>
    isIstioProtocol(s)
      ? undefined
      : `unsupported protocol "${s}"; supported protocols are ${ISTIO_PROTOCOLS.join(', ')}`,
  );

/** An RE2 regular expression. */
export const re2 = (): Schema<string> =>
  checkedString('an RE2 regular expression', (s) => {
    const problem = checkRe2(s);
    return problem ? `invalid RE2 regex ${JSON.stringify(s)}: ${problem}` : undefined;
  });

export function checkLabels(labels: Record<string, string>, path: FieldPath, ctx: CheckContext): void {
  for (const [k, v] of Object.entries(labels)) {
    const keyProblem = labelKeyError(k);
    if (keyProblem) report(ctx, [...path, k], keyProblem, { atKey: true });
    const valueProblem = labelValueError(v);
    if (valueProblem) report(ctx, [...path, k], valueProblem);
  }
}

/** Kubernetes labels: valid keys and values. */
export const labels = (): Schema<Record<string, string>> => refine(mapOf(str()), checkLabels);

/** Workload selector labels: as labels, and Istio refuses wildcards and empty keys. */
export const selectorLabels = (): Schema<Record<string, string>> =>
  refine(labels(), (v, path, ctx) => {
    for (const [k, value] of Object.entries(v)) {
      if (k.includes('*') || value.includes('*')) {
        report(ctx, [...path, k], `wildcard is not supported in selector: "${k}=${value}"`);
      }
    }
  });

export const labelSelector = (): Schema<LabelSelector> =>
  object<LabelSelector>({ matchLabels: opt(selectorLabels()) });

export const targetRef = (): Schema<PolicyTargetReference> =>
  object<PolicyTargetReference>({
    group: opt(str()),
    kind: req(str({ nonEmpty: true })),
    name: req(str({ nonEmpty: true })),
    namespace: opt(dnsLabel('namespace')),
  });

/** Istio's Percent: 0, or 0.0001 to 100. */
export const percent = (): Schema<Percent> =>
  refine(object<Percent>({ value: req(num()) }), (v, path, ctx) => {
    if (v.value < 0 || v.value > 100 || (v.value > 0 && v.value < 0.0001)) {
      report(ctx, [...path, 'value'], `percentage must be 0 or between 0.0001 and 100, got ${v.value}`);
    }
  });

/** A host in a destination: an FQDN or short name (no `*`). */
export function destinationHost(): Schema<string> {
  return checkedString('a host name', (s) => {
    if (s === '*')
      return 'a destination host cannot be "*": name a service such as "reviews" or "reviews.default.svc.cluster.local"';
    return wildcardDomainError(s);
  });
}

export const portSelector = (): Schema<PortSelector> => object<PortSelector>({ number: req(port()) });

export const destination = (): Schema<Destination> =>
  object<Destination>({
    host: req(destinationHost()),
    subset: opt(dnsLabel('subset name')),
    port: opt(portSelector()),
  });

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** JWT claim routing: a header match on `@request.auth.claims.<claim>` (or `@request.auth.claims[<claim>]`). */
const CLAIM_KEY = /^@request\.auth\.claims(\.[^.[\]]+|(\[[^\]]+\])+)+$/;

/** An HTTP header name; `lowercase` turns upper case into an error, otherwise it is a warning. */
export function headerName(
  where: string,
  opts: { lowercase: 'error' | 'warning'; claims?: boolean },
): Schema<string> {
  return refine(str({ nonEmpty: true, describe: 'a header name' }), (v, path, ctx) => {
    if (opts.claims && v.startsWith('@')) {
      if (!CLAIM_KEY.test(v))
        report(ctx, path, `"${v}" is not a JWT claim match; write @request.auth.claims.<claim>`, {
          atKey: true,
        });
      return;
    }
    const pseudo = v.startsWith(':');
    const name = pseudo ? v.slice(1) : v;
    if (!HEADER_NAME.test(name)) {
      report(ctx, path, `${where} "${v}" is not a valid HTTP header name`, { atKey: true });
    } else if (v !== v.toLowerCase()) {
      report(
        ctx,
        path,
        `${where} "${v}" must be lowercase (HTTP/2 and Envoy compare header names in lowercase)`,
        {
          severity: opts.lowercase,
          atKey: true,
          fix: `write "${v.toLowerCase()}"`,
        },
      );
    }
  });
}

/** Header names as map keys: checks each key with headerName. */
export function headerMap<V>(
  value: Schema<V>,
  where: string,
  lowercase: 'error' | 'warning',
  claims = false,
): Schema<Record<string, V>> {
  const key = headerName(where, { lowercase, claims });
  return mapOf(value, key);
}

const INTERNAL_HEADER = (h: string) => h.startsWith(':') || h.toLowerCase() === 'host';

function headerOperations(where: string): Schema<HeaderOperations> {
  const ops = object<HeaderOperations>({
    set: opt(headerMap(str(), `${where} header`, 'warning')),
    add: opt(headerMap(str(), `${where} header`, 'warning')),
    remove: opt(arrayOf(headerName(`${where} header`, { lowercase: 'warning' }))),
  });
  return refine(ops, (v, path, ctx) => {
    for (const name of v.remove ?? []) {
      if (INTERNAL_HEADER(name)) {
        report(ctx, [...path, 'remove'], `cannot remove internal header "${name}"`);
      }
    }
    for (const op of ['set', 'add'] as const) {
      for (const name of Object.keys(v[op] ?? {})) {
        const lower = name.toLowerCase();
        if (lower.startsWith(':') && lower !== ':authority') {
          report(ctx, [...path, op, name], `cannot ${op} pseudo header "${name}"`, { atKey: true });
        }
      }
    }
  });
}

export const headers = (): Schema<Headers> =>
  object<Headers>({ request: opt(headerOperations('request')), response: opt(headerOperations('response')) });

/** exportTo: `.`, `*`, namespaces, and `~` for ServiceEntries. */
export function exportTo(serviceEntry: boolean): Schema<string[]> {
  return refine(arrayOf(str()), (v, path, ctx) => {
    const seen = new Map<string, number>();
    v.forEach((e, i) => {
      const key = e === '.' ? ctx.namespace : e;
      if (seen.has(key)) {
        report(
          ctx,
          [...path, i],
          e === '.' || v[seen.get(key)!] === '.'
            ? `duplicate entries in exportTo: "." and the current namespace ${ctx.namespace}`
            : `duplicate entry "${e}" in exportTo`,
        );
      }
      seen.set(key, i);
      if (e === '~' && !serviceEntry)
        report(ctx, [...path, i], '"~" (export to no one) is only allowed in ServiceEntries');
      else if (e !== '.' && e !== '*' && e !== '~' && !isDns1123Label(e)) {
        report(ctx, [...path, i], `exportTo entry "${e}" must be ".", "*" or a namespace name`);
      }
    });
    if (v.includes('*') && v.length > 1)
      report(ctx, path, 'cannot have both public (*) and other exportTo values');
    if (v.includes('~') && v.length > 1) report(ctx, path, 'cannot export to no one (~) and someone');
  });
}
