// What the security engines read about a connection or a request: one plain object per request, filled by the caller.

/** A JSON-like value in dynamic metadata (Envoy's `google.protobuf.Value`). */
export type MetadataValue =
  | string
  | number
  | boolean
  | null
  | readonly MetadataValue[]
  | { readonly [key: string]: MetadataValue };

/** One filter's dynamic metadata (a `google.protobuf.Struct`). */
export type MetadataStruct = { readonly [key: string]: MetadataValue };

/** Dynamic metadata by filter name (`istio_authn`, `envoy.filters.http.rbac`, ...), shared by the filters of one request. */
export type DynamicMetadata = Map<string, MetadataStruct>;

/**
 * Request headers. Implementations must look names up case-insensitively and return every value in
 * arrival order (repeated headers are never collapsed by the codec). Pseudo-headers are not read from here:
 * the context carries `method`, `path` and `authority`.
 */
export interface RequestHeaders {
  values(name: string): readonly string[] | undefined;
  /** Every header name present, lower-case, once each (for ext_authz and sanitizing; not on the RBAC path). */
  names(): Iterable<string>;
}

/** The verified client certificate of a TLS connection (absent on plaintext or when no certificate was sent). */
export interface PeerCertificate {
  /** URI SANs; a mesh workload has exactly one, its SPIFFE ID. */
  uriSans: readonly string[];
  dnsSans: readonly string[];
  /** RFC 2253 subject (`CN=x,O=y`); empty for mesh workload certificates. */
  subject: string;
  /** SHA-256 of the DER certificate, lower-case hex (XFCC `Hash`). */
  sha256?: string;
}

/** Attributes of the downstream connection, the whole context for TCP (network RBAC). */
export interface ConnectionContext {
  /** The peer address of the socket. */
  directRemoteIp: string;
  /** The client address after `x-forwarded-for` with trusted hops (`remoteAddressFromXff`); `directRemoteIp` for TCP. */
  remoteIp: string;
  /** The original destination (local address) of the connection. */
  destinationIp: string;
  destinationPort: number;
  /** SNI the client asked for; empty without TLS or SNI. */
  requestedServerName: string;
  /** Undefined when plaintext: `authenticated` principals never match then. */
  peer: PeerCertificate | undefined;
  metadata: DynamicMetadata;
}

/** Attributes of one HTTP request on top of its connection. */
export interface RequestContext extends ConnectionContext {
  method: string;
  /** `:path` after the connection manager's normalization, query included. */
  path: string;
  /** `:authority` (the Host header in HTTP/1.1). */
  authority: string;
  headers: RequestHeaders;
}

/** Either context: the engines compile once and evaluate both; request fields are absent for connections. */
export type AnyContext = ConnectionContext &
  Partial<Pick<RequestContext, 'method' | 'path' | 'authority' | 'headers'>>;

/** A peer certificate for a mesh workload whose identity was read with `peerIdentity(socket)`. */
export function peerFromSpiffeId(spiffeId: string, sha256?: string): PeerCertificate {
  return { uriSans: [spiffeId], dnsSans: [], subject: '', sha256 };
}

class MapHeaders implements RequestHeaders {
  readonly #map: Map<string, string[]>;
  constructor(map: Map<string, string[]>) {
    this.#map = map;
  }
  values(name: string): readonly string[] | undefined {
    return this.#map.get(name.toLowerCase());
  }
  names(): Iterable<string> {
    return this.#map.keys();
  }
}

/** Headers from Node's `rawHeaders` layout (`[name, value, name, value, ...]`), repeated names kept. */
export function headersFromRaw(raw: readonly string[]): RequestHeaders {
  const map = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const list = map.get(name);
    if (list) list.push(raw[i + 1]!);
    else map.set(name, [raw[i + 1]!]);
  }
  return new MapHeaders(map);
}

/** Headers from a record; an array value is a repeated header. */
export function headersFromRecord(
  record: Readonly<Record<string, string | readonly string[]>>,
): RequestHeaders {
  const map = new Map<string, string[]>();
  for (const [name, value] of Object.entries(record)) {
    const key = name.toLowerCase();
    const list = map.get(key) ?? [];
    if (typeof value === 'string') list.push(value);
    else list.push(...value);
    map.set(key, list);
  }
  return new MapHeaders(map);
}

export const NO_HEADERS: RequestHeaders = Object.freeze({ values: () => undefined, names: () => [] });
