// Test helpers for the transport: a proxy built from the public API, raw sockets, and llhttp as an oracle.

import type { AddressInfo } from 'node:net';
import net from 'node:net';
import type { Handler } from '../../../src/sidecar/http/message.js';
import { HttpServer, type HttpServerOptions } from '../../../src/sidecar/http/server.js';
import { Http1Pool, type Http1PoolOptions } from '../../../src/sidecar/upstream/pool/h1-pool.js';

export interface Listening {
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:0 with a connection handler; `close` also destroys open sockets. */
export async function listen(onConnection: (socket: net.Socket) => void): Promise<Listening> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface Proxy extends Listening {
  server: HttpServer;
  pool: Http1Pool;
}

/** The transport as a tiny reverse proxy: HttpServer in, Http1Pool out, nothing in between. */
export async function startProxy(
  upstreamPort: number,
  opts: {
    server?: Omit<HttpServerOptions, 'handler'>;
    pool?: Partial<Http1PoolOptions>;
    handler?: Handler;
  } = {},
): Promise<Proxy> {
  const pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: upstreamPort }, ...opts.pool });
  const handler: Handler = opts.handler ?? ((req, ctx) => pool.request(req, { signal: ctx.signal }));
  const server = new HttpServer({ ...opts.server, handler });
  const l = await listen((socket) => server.serve(socket));
  return {
    port: l.port,
    server,
    pool,
    close: async () => {
      server.destroy();
      pool.destroy();
      await l.close();
    },
  };
}

/** A raw client connection that collects everything it receives. */
export class RawClient {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  closed: Promise<void>;
  #waiters: (() => void)[] = [];

  constructor(port: number) {
    this.socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    this.socket.on('data', (c: Buffer) => {
      this.received = Buffer.concat([this.received, c]);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.socket.on('error', () => {});
    // The server closing its side is what tests wait for: close ours in turn.
    this.socket.on('end', () => this.socket.end());
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
    this.socket.on('close', () => {
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async open(port: number): Promise<RawClient> {
    const c = new RawClient(port);
    await new Promise<void>((resolve, reject) => {
      c.socket.once('connect', resolve);
      c.socket.once('error', reject);
    });
    return c;
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Waits until `predicate(received)` holds or the socket closes. */
  async until(predicate: (received: Buffer) => boolean): Promise<void> {
    while (!predicate(this.received) && !this.socket.destroyed && this.socket.readable) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Waits for `n` complete responses (parsed with llhttp) or close; HEAD responses need `headRequests`. */
  async responses(n: number, headRequests: boolean[] = []): Promise<LlhttpMessage[]> {
    let parsed: LlhttpMessage[] = [];
    await this.until((buf) => {
      parsed = parseWithLlhttp('response', buf, headRequests).messages.filter((m) => m.complete);
      return parsed.length >= n;
    });
    return parsed;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One message as llhttp (node:http's parser) sees it. */
export interface LlhttpMessage {
  method: string | undefined;
  url: string;
  status: number;
  versionMinor: number;
  /** Raw header pairs in order, names as sent. */
  headers: [string, string][];
  body: Buffer;
  trailers: [string, string][];
  upgrade: boolean;
  keepAlive: boolean;
  complete: boolean;
}

export interface LlhttpResult {
  messages: LlhttpMessage[];
  /** llhttp's error code (HPE_*), if it refused the input. */
  error: string | undefined;
  /** Bytes llhttp consumed before stopping (upgrade, pause or error). */
  consumed: number;
}

interface LlhttpBinding {
  HTTPParser: {
    new (): LlhttpParser;
    REQUEST: number;
    RESPONSE: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
  };
  methods: string[];
}

interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | Error;
  finish(): number | Error | undefined;
  close(): void;
  [key: number]: unknown;
}

let binding: LlhttpBinding | undefined | null = null;

/** node:http's own llhttp binding, or undefined when this Node no longer exposes it. */
export function llhttpBinding(): LlhttpBinding | undefined {
  if (binding !== null) return binding;
  try {
    const emit = process.emitWarning;
    // process.binding is deprecated (DEP0111) but 'http_parser' stays on its allow-list; silence the warning.
    process.emitWarning = () => {};
    try {
      binding = (process as unknown as { binding(name: string): LlhttpBinding }).binding('http_parser');
    } finally {
      process.emitWarning = emit;
    }
  } catch {
    binding = undefined;
  }
  return binding;
}

/**
 * Parses bytes with llhttp in strict mode (no lenient flags), as node:http does. For responses,
 * `headRequests[i]` says whether the i-th response answers a HEAD request (no body).
 */
export function parseWithLlhttp(
  kind: 'request' | 'response',
  data: Buffer,
  headRequests: boolean[] = [],
): LlhttpResult {
  const b = llhttpBinding();
  if (b === undefined) throw new Error('llhttp binding unavailable');
  const { HTTPParser } = b;
  const parser = new HTTPParser();
  parser.initialize(kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, 256 * 1024, 0);
  const messages: LlhttpMessage[] = [];
  let current: LlhttpMessage | undefined;
  let pendingHeaders: string[] = [];
  let pendingUrl = '';
  const pairs = (flat: string[]): [string, string][] => {
    const out: [string, string][] = [];
    for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
    return out;
  };
  parser[HTTPParser.kOnHeaders] = (headers: string[], url: string) => {
    // After a head is complete, a flush of headers can only be the trailer section.
    if (current !== undefined && !current.complete) {
      current.trailers.push(...pairs(headers));
      return;
    }
    pendingHeaders = pendingHeaders.concat(headers);
    pendingUrl += url;
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    _major: number,
    minor: number,
    headers: string[] | undefined,
    method: number | undefined,
    url: string | undefined,
    status: number,
    _reason: string,
    upgrade: boolean,
    keepAlive: boolean,
  ) => {
    const all = pendingHeaders.concat(headers ?? []);
    current = {
      method: method === undefined ? undefined : b.methods[method],
      url: pendingUrl + (url ?? ''),
      status,
      versionMinor: minor,
      headers: pairs(all),
      body: Buffer.alloc(0),
      trailers: [],
      upgrade,
      keepAlive,
      complete: false,
    };
    pendingHeaders = [];
    pendingUrl = '';
    messages.push(current);
    if (kind === 'response' && (headRequests[messages.length - 1] ?? false)) return 1;
    return 0;
  };
  parser[HTTPParser.kOnBody] = (chunk: Buffer) => {
    if (current) current.body = Buffer.concat([current.body, chunk]);
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    if (current) current.complete = true;
  };
  const r = parser.execute(data);
  let error: string | undefined;
  let consumed = data.length;
  if (r instanceof Error) {
    error = (r as Error & { code?: string }).code ?? r.message;
    consumed = (r as Error & { bytesParsed?: number }).bytesParsed ?? 0;
  } else {
    consumed = r;
  }
  parser.close();
  return { messages, error, consumed };
}

/** A Promise that resolves on the next event `name` of an emitter. */
export function once<T = unknown>(emitter: NodeJS.EventEmitter, name: string): Promise<T> {
  return new Promise((resolve) => emitter.once(name, (v: T) => resolve(v)));
}

/** What a scripted upstream saw on one connection. */
export interface UpstreamConnection {
  raw: Buffer;
  requests: LlhttpMessage[];
  socket: net.Socket;
}

export interface ScriptedUpstream extends Listening {
  connections: UpstreamConnection[];
  /** Every request received, over all connections, in arrival order. */
  requests: LlhttpMessage[];
  /** Total bytes received over all connections. */
  bytes(): number;
}

/**
 * A raw upstream that parses what it receives with llhttp and answers each complete request with whatever
 * `respond` returns (raw bytes, so a test controls framing exactly). Returning undefined sends nothing.
 */
export async function scriptedUpstream(
  respond: (req: LlhttpMessage, conn: UpstreamConnection) => string | Buffer | undefined,
): Promise<ScriptedUpstream> {
  const connections: UpstreamConnection[] = [];
  const requests: LlhttpMessage[] = [];
  const l = await listen((socket) => {
    const conn: UpstreamConnection = { raw: Buffer.alloc(0), requests: [], socket };
    connections.push(conn);
    socket.on('error', () => {});
    socket.on('end', () => socket.end());
    socket.on('data', (chunk: Buffer) => {
      conn.raw = Buffer.concat([conn.raw, chunk]);
      const parsed = parseWithLlhttp('request', conn.raw).messages.filter((m) => m.complete);
      for (const req of parsed.slice(conn.requests.length)) {
        conn.requests.push(req);
        requests.push(req);
        const out = respond(req, conn);
        if (out !== undefined && !socket.destroyed)
          socket.write(typeof out === 'string' ? Buffer.from(out, 'latin1') : out);
      }
    });
  });
  return {
    ...l,
    connections,
    requests,
    bytes: () => connections.reduce((n, c) => n + c.raw.length, 0),
  };
}

/** Header value by case-insensitive name from llhttp's raw pairs (all values joined by ", "). */
export function header(pairs: [string, string][], name: string): string | undefined {
  const values = pairs.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  return values.length === 0 ? undefined : values.join(', ');
}
