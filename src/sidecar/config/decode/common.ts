// Small Envoy types shared by every resource: durations, percentages, addresses, CIDRs, header edits, metadata.

import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import type { Duration } from '@bufbuild/protobuf/wkt';
import { fromProtoDuration } from '../../../shared/duration.js';
import type {
  Address,
  CidrRange as CidrRangeProto,
} from '../../../xds/gen/envoy/config/core/v3/address_pb.js';
import {
  type HeaderValueOption,
  HeaderValueOption_HeaderAppendAction,
} from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import {
  FractionalPercent_DenominatorType,
  type FractionalPercent as FractionalPercentProto,
} from '../../../xds/gen/envoy/type/v3/percent_pb.js';
import { asciiLower } from '../ascii.js';
import { compileCidr, formatIp, parseIp } from '../match/ip.js';
import type { CidrRange, HeaderMutation, HeaderOps, SocketAddress } from '../model.js';
import { NO_HEADER_OPS } from '../model.js';
import { at, type DecodeContext } from './problems.js';

export function ms(d: Duration | undefined): number | undefined {
  return fromProtoDuration(d);
}

/** A duration that must not be negative; reports and falls back to `fallback` otherwise. */
export function nonNegativeMs(
  ctx: DecodeContext,
  d: Duration | undefined,
  path: string,
  fallback: number,
): number {
  const v = fromProtoDuration(d);
  if (v === undefined) return fallback;
  if (v < 0) {
    ctx.report(path, `must not be negative, got ${v}ms`);
    return fallback;
  }
  return v;
}

const DENOMINATOR: Record<number, number> = {
  [FractionalPercent_DenominatorType.HUNDRED]: 100,
  [FractionalPercent_DenominatorType.TEN_THOUSAND]: 10_000,
  [FractionalPercent_DenominatorType.MILLION]: 1_000_000,
};

/** Envoy's FractionalPercent as a fraction in [0, 1]; a numerator above the denominator means 100%. */
export function fraction(
  ctx: DecodeContext,
  p: FractionalPercentProto | undefined,
  path: string,
  fallback: number,
): number {
  if (!p) return fallback;
  const d = DENOMINATOR[p.denominator];
  if (d === undefined) {
    ctx.report(at(path, 'denominator'), `unknown denominator ${p.denominator}`);
    return fallback;
  }
  return Math.min(1, p.numerator / d);
}

export function socketAddress(ctx: DecodeContext, a: Address | undefined, path: string): SocketAddress {
  const addr = a?.address;
  if (addr?.case !== 'socketAddress') {
    ctx.report(
      path,
      a ? `only socket_address is supported, got ${addr?.case ?? 'nothing'}` : 'address is required',
    );
    return { address: '0.0.0.0', port: 0 };
  }
  const sa = addr.value;
  const p = at(path, 'socket_address');
  if (sa.portSpecifier.case !== 'portValue') {
    ctx.report(at(p, 'named_port'), 'named ports are not supported; use port_value');
    return { address: sa.address, port: 0 };
  }
  if (sa.protocol !== 0) ctx.report(at(p, 'protocol'), 'only TCP listeners and endpoints are supported');
  if (sa.resolverName) ctx.report(at(p, 'resolver_name'), 'custom resolvers are not supported');
  const ip = parseIp(sa.address);
  return { address: ip ? formatIp(ip) : sa.address, port: sa.portSpecifier.value };
}

export function cidr(ctx: DecodeContext, c: CidrRangeProto, path: string): CidrRange | undefined {
  const prefixLen = c.prefixLen ?? 0;
  const compiled = compileCidr(c.addressPrefix, prefixLen);
  if (!compiled) {
    ctx.report(path, `invalid CIDR ${c.addressPrefix}/${prefixLen}`);
    return undefined;
  }
  const slash = compiled.key.lastIndexOf('/');
  return { address: compiled.key.slice(0, slash), prefixLen: compiled.prefixLen };
}

const APPEND: Record<number, HeaderMutation['action']> = {
  [HeaderValueOption_HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD]: 'append',
  [HeaderValueOption_HeaderAppendAction.ADD_IF_ABSENT]: 'addIfAbsent',
  [HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD]: 'overwrite',
  [HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS]: 'overwriteIfExists',
};

/** Envoy refuses to edit pseudo-headers and Host through header options. */
function modifiable(name: string): boolean {
  return !name.startsWith(':') && name !== 'host';
}

/** Envoy's header values are format strings; only the `%%` escape is implemented, commands are refused. */
function literalValue(value: string): string | undefined {
  if (!value.includes('%')) return value;
  if (value.replace(/%%/g, '').includes('%')) return undefined;
  return value.replace(/%%/g, '%');
}

export function headerOps(
  ctx: DecodeContext,
  add: readonly HeaderValueOption[],
  remove: readonly string[],
  path: string,
  fields: { add: string; remove: string },
): HeaderOps {
  if (add.length === 0 && remove.length === 0) return NO_HEADER_OPS;
  const mutations: HeaderMutation[] = [];
  add.forEach((o, i) => {
    const p = at(at(path, fields.add), i);
    if (!o.header) {
      ctx.report(p, 'header is required');
      return;
    }
    if (o.header.rawValue.length > 0)
      ctx.report(at(p, 'header.raw_value'), 'raw_value is not supported; use value');
    const key = asciiLower(o.header.key);
    if (!key) ctx.report(at(p, 'header.key'), 'header name must not be empty');
    else if (!modifiable(key))
      ctx.report(at(p, 'header.key'), `":"-prefixed or host headers may not be modified (${key})`);
    const value = literalValue(o.header.value);
    if (value === undefined) {
      ctx.report(
        at(p, 'header.value'),
        `header value "${o.header.value}" uses %-substitution, which the Trellis sidecar does not implement (write %% for a literal %)`,
      );
      return;
    }
    const action = o.append !== undefined ? (o.append ? 'append' : 'overwrite') : APPEND[o.appendAction];
    if (!action) {
      ctx.report(at(p, 'append_action'), `unknown append_action ${o.appendAction}`);
      return;
    }
    mutations.push({ key, value, action, keepEmpty: o.keepEmptyValue });
  });
  const removed: string[] = [];
  remove.forEach((name, i) => {
    const key = asciiLower(name);
    if (!modifiable(key)) {
      ctx.report(at(at(path, fields.remove), i), `":"-prefixed or host headers may not be removed (${key})`);
      return;
    }
    removed.push(key);
  });
  return Object.freeze({ add: Object.freeze(mutations), remove: Object.freeze(removed) });
}

export const REQUEST_HEADER_FIELDS = { add: 'request_headers_to_add', remove: 'request_headers_to_remove' };
export const RESPONSE_HEADER_FIELDS = {
  add: 'response_headers_to_add',
  remove: 'response_headers_to_remove',
};

/** A metadata Struct whose values must all be strings (transport socket matches, endpoint labels). */
export function stringRecord(
  ctx: DecodeContext,
  obj: JsonObject | undefined,
  path: string,
): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (typeof v === 'string') out[k] = v;
    else ctx.report(at(path, k), `expected a string, got ${jsonKind(v)}`);
  }
  return Object.freeze(out);
}

export function jsonKind(v: JsonValue | undefined): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
