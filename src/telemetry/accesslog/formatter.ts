// Envoy's access log command operators, compiled once into a function from a record to a line.

import { hostname } from 'node:os';
import { TrellisError } from '../../shared/errors.js';
import { type HeaderMap, headerValue, type RequestRecord } from '../record.js';

/** What one operator yields: a string, a number (typed in JSON), or undefined (`-` in text, null in JSON). */
type Value = string | number | undefined;
type Getter = (r: RequestRecord) => Value;

function truncate(get: Getter, max: number | undefined): Getter {
  if (max === undefined) return get;
  return (r) => {
    const v = get(r);
    return typeof v === 'string' && v.length > max ? v.slice(0, max) : v;
  };
}

function pseudoHeader(name: string, r: RequestRecord): string | undefined {
  switch (name) {
    case ':method':
      return r.method;
    case ':path':
      return r.path;
    case ':authority':
      return r.authority ?? headerValue(r.requestHeaders, 'host');
    case ':scheme':
      return r.scheme;
    case ':status':
      return r.responseCode ? String(r.responseCode) : undefined;
  }
  return undefined;
}

/** `%REQ(X?Y):Z%` style lookup: the first header present among the alternatives. */
function headerGetter(
  arg: string,
  pick: (r: RequestRecord) => HeaderMap | undefined,
  pseudo: boolean,
): Getter {
  const names = arg.split('?').map((n) => n.trim().toLowerCase());
  if (names.length > 2 || names.some((n) => n === '')) {
    throw new TrellisError(
      'ACCESSLOG_FORMAT',
      `header operator argument "${arg}" must be NAME or NAME?ALTERNATIVE`,
    );
  }
  return (r) => {
    for (const n of names) {
      const v = pseudo && n.startsWith(':') ? pseudoHeader(n, r) : headerValue(pick(r), n);
      if (v !== undefined && v !== '') return v;
    }
    return undefined;
  };
}

function withoutQuery(get: Getter): Getter {
  return (r) => {
    const v = get(r);
    if (typeof v !== 'string') return v;
    const q = v.indexOf('?');
    return q < 0 ? v : v.slice(0, q);
  };
}

function addressWithoutPort(a: string | undefined): string | undefined {
  if (!a) return a;
  if (a.startsWith('[')) return a.slice(1, a.indexOf(']'));
  const i = a.lastIndexOf(':');
  return i < 0 || a.indexOf(':') !== i ? a : a.slice(0, i);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A small strftime for `%START_TIME(...)%` (UTC, as Envoy logs): %Y %m %d %H %M %S %3f %6f %9f %s %z %%. */
function compileTimeFormat(fmt: string): (ms: number) => string {
  return (ms) => {
    const d = new Date(ms);
    return fmt.replace(/%(E?\d?[a-zA-Z%])/g, (m, spec: string) => {
      switch (spec) {
        case 'Y':
          return String(d.getUTCFullYear());
        case 'm':
          return pad(d.getUTCMonth() + 1);
        case 'd':
          return pad(d.getUTCDate());
        case 'H':
          return pad(d.getUTCHours());
        case 'M':
          return pad(d.getUTCMinutes());
        case 'S':
          return pad(d.getUTCSeconds());
        case 'E3S':
          return `${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
        case '3f':
          return pad(d.getUTCMilliseconds(), 3);
        case '6f':
          return `${pad(d.getUTCMilliseconds(), 3)}000`;
        case '9f':
          return `${pad(d.getUTCMilliseconds(), 3)}000000`;
        case 's':
          return String(Math.floor(ms / 1000));
        case 'z':
          return '+0000';
        case '%':
          return '%';
      }
      return m;
    });
  };
}

const HOSTNAME = hostname();

/** Operators with no argument. */
const SIMPLE: Record<string, Getter> = {
  START_TIME: (r) => new Date(r.startTime).toISOString(),
  PROTOCOL: (r) => r.protocol,
  RESPONSE_CODE: (r) => r.responseCode,
  RESPONSE_FLAGS: (r) => r.responseFlags || '-',
  RESPONSE_CODE_DETAILS: (r) => r.responseCodeDetails,
  CONNECTION_TERMINATION_DETAILS: (r) => r.connectionTerminationDetails,
  BYTES_RECEIVED: (r) => r.bytesReceived,
  BYTES_SENT: (r) => r.bytesSent,
  DURATION: (r) => Math.floor(r.durationMs),
  UPSTREAM_HOST: (r) => r.upstreamHost,
  UPSTREAM_REMOTE_ADDRESS: (r) => r.upstreamHost,
  UPSTREAM_CLUSTER: (r) => r.upstreamCluster,
  UPSTREAM_CLUSTER_RAW: (r) => r.upstreamCluster,
  UPSTREAM_LOCAL_ADDRESS: (r) => r.upstreamLocalAddress,
  UPSTREAM_TRANSPORT_FAILURE_REASON: (r) => r.upstreamTransportFailureReason,
  UPSTREAM_REQUEST_ATTEMPT_COUNT: (r) => r.upstreamRequestAttemptCount,
  UPSTREAM_PEER_URI_SAN: (r) => r.upstreamPeerUriSan,
  DOWNSTREAM_LOCAL_ADDRESS: (r) => r.downstreamLocalAddress,
  DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: (r) => addressWithoutPort(r.downstreamLocalAddress),
  DOWNSTREAM_REMOTE_ADDRESS: (r) => r.downstreamRemoteAddress,
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (r) => addressWithoutPort(r.downstreamRemoteAddress),
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS: (r) => r.downstreamRemoteAddress,
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT: (r) => addressWithoutPort(r.downstreamRemoteAddress),
  DOWNSTREAM_PEER_URI_SAN: (r) => r.downstreamPeerUriSan,
  DOWNSTREAM_LOCAL_URI_SAN: (r) => r.downstreamLocalUriSan,
  REQUESTED_SERVER_NAME: (r) => r.requestedServerName,
  ROUTE_NAME: (r) => r.routeName,
  TRACE_ID: (r) => r.traceId,
  GRPC_STATUS: (r) => (r.grpcStatus === undefined ? undefined : r.grpcStatus),
  GRPC_STATUS_NUMBER: (r) => r.grpcStatus,
  HOSTNAME: () => HOSTNAME,
};

function operator(command: string, arg: string | undefined, max: number | undefined): Getter {
  if (arg === undefined) {
    const simple = SIMPLE[command];
    if (!simple)
      throw new TrellisError('ACCESSLOG_FORMAT', `unknown access log command operator %${command}%`);
    return truncate(simple, max);
  }
  switch (command) {
    case 'REQ':
      return truncate(
        headerGetter(arg, (r) => r.requestHeaders, true),
        max,
      );
    case 'RESP':
      return truncate(
        headerGetter(arg, (r) => r.responseHeaders, false),
        max,
      );
    case 'TRAILER':
      return truncate(
        headerGetter(arg, (r) => r.responseTrailers, false),
        max,
      );
    case 'REQ_WITHOUT_QUERY':
      return truncate(withoutQuery(headerGetter(arg, (r) => r.requestHeaders, true)), max);
    case 'START_TIME': {
      const f = compileTimeFormat(arg);
      return (r) => f(r.startTime);
    }
    case 'ENVIRONMENT': {
      const v = process.env[arg];
      return truncate(() => v, max);
    }
    // Istio's pre-1.9 default logs the mixer status; there is no dynamic metadata here, so it logs `-`.
    case 'DYNAMIC_METADATA':
    case 'FILTER_STATE':
    case 'CEL':
    case 'METADATA':
      return () => undefined;
  }
  throw new TrellisError('ACCESSLOG_FORMAT', `unknown access log command operator %${command}(${arg})%`);
}

type Part = string | Getter;

/** Splits a format string into literals and operator getters; an unknown operator throws at compile time. */
function parse(format: string): Part[] {
  const parts: Part[] = [];
  const re = /%([A-Z_0-9]+)(?:\(([^)]*)\))?(?::(\d+))?%|%%/g;
  let last = 0;
  for (let m = re.exec(format); m; m = re.exec(format)) {
    if (m.index > last) parts.push(format.slice(last, m.index));
    last = re.lastIndex;
    if (m[0] === '%%') {
      parts.push('%');
      continue;
    }
    parts.push(operator(m[1]!, m[2], m[3] === undefined ? undefined : Number(m[3])));
  }
  if (last < format.length) parts.push(format.slice(last));
  const merged: Part[] = [];
  for (const p of parts) {
    const prev = merged[merged.length - 1];
    if (typeof p === 'string' && typeof prev === 'string') merged[merged.length - 1] = prev + p;
    else merged.push(p);
  }
  return merged;
}

export type LineFormatter = (r: RequestRecord) => string;

/** Compiles an Envoy text format; missing values print `-` as Envoy does. */
export function compileTextFormat(format: string): LineFormatter {
  const parts = parse(format);
  return (r) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (typeof p === 'string') out += p;
      else {
        const v = p(r);
        out += v === undefined || v === '' ? '-' : v;
      }
    }
    return out;
  };
}

/**
 * Compiles an Envoy JSON format (key -> format string), one JSON object per line. A value that is a single
 * operator keeps its type (numbers stay numbers, missing is null), as Envoy's typed JSON does.
 */
export function compileJsonFormat(format: Readonly<Record<string, string>>): LineFormatter {
  const fields = Object.entries(format).map(([key, fmt]) => {
    const parts = parse(fmt);
    const single = parts.length === 1 && typeof parts[0] !== 'string' ? (parts[0] as Getter) : undefined;
    const text = single ? undefined : compileTextFormat(fmt);
    return { prefix: `${JSON.stringify(key)}:`, single, text };
  });
  return (r) => {
    let out = '{';
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (i > 0) out += ',';
      out += f.prefix;
      if (f.single) {
        const v = f.single(r);
        out += v === undefined || v === '' ? 'null' : typeof v === 'number' ? String(v) : JSON.stringify(v);
      } else out += JSON.stringify(f.text!(r));
    }
    return `${out}}\n`;
  };
}
