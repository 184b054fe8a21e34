// A stand-in for the host-mode sidecar: an explicit proxy that routes, records and injects faults.

import http, { type IncomingHttpHeaders } from 'node:http';
import net, { type AddressInfo } from 'node:net';

export interface CarriedRequest {
  /** The request target as received: absolute-form when the app honoured HTTP_PROXY. */
  rawUrl: string;
  /** `reviews:9080` */
  authority: string;
  path: string;
  method: string;
  headers: IncomingHttpHeaders;
}

export type FaultAction = { hang: true } | { abort: number };

export interface Fault {
  /** Authority the fault applies to, e.g. `ratings:9080`. */
  authority: string;
  when: (headers: IncomingHttpHeaders) => boolean;
  action: FaultAction;
}

export interface MiniMeshOptions {
  /** Picks the `127.0.0.1:port` serving a request, or undefined for a 502 (no such service). */
  route: (authority: string, headers: IncomingHttpHeaders) => string | undefined;
}

export class MiniMesh {
  readonly carried: CarriedRequest[] = [];
  readonly faults: Fault[] = [];
  readonly #server: http.Server;
  readonly #agent = new http.Agent({ keepAlive: true });
  readonly #tunnels = new Set<net.Socket>();
  #port = 0;

  constructor(opts: MiniMeshOptions) {
    this.#server = http.createServer((req, res) => {
      const rawUrl = req.url ?? '';
      if (!/^https?:\/\//.test(rawUrl)) {
        res.writeHead(400).end(`not a proxy request: ${rawUrl}`);
        return;
      }
      const url = new URL(rawUrl);
      const record: CarriedRequest = {
        rawUrl,
        authority: url.host,
        path: `${url.pathname}${url.search}`,
        method: req.method ?? 'GET',
        headers: req.headers,
      };
      this.carried.push(record);
      const fault = this.faults.find((f) => f.authority === url.host && f.when(req.headers));
      if (fault && 'hang' in fault.action) return;
      if (fault && 'abort' in fault.action) {
        res.writeHead(fault.action.abort, { 'content-type': 'text/plain' }).end('fault filter abort');
        return;
      }
      const target = opts.route(url.host, req.headers);
      if (!target) {
        res.writeHead(502).end(`no route to ${url.host}`);
        return;
      }
      const [host, port] = target.split(':');
      const upstream = http.request(
        {
          host,
          port: Number(port),
          method: req.method,
          path: record.path,
          headers: req.headers,
          agent: this.#agent,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent)
          res.writeHead(503).end('upstream connect error or disconnect/reset before headers');
        else res.destroy();
      });
      req.pipe(upstream);
    });
    // HTTPS through the proxy: record the CONNECT and splice the two connections.
    this.#server.on('connect', (req, client: net.Socket, head: Buffer) => {
      const authority = req.url ?? '';
      this.carried.push({ rawUrl: authority, authority, path: '', method: 'CONNECT', headers: req.headers });
      const target = opts.route(authority, req.headers);
      if (!target) {
        client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        return;
      }
      const [host, port] = target.split(':');
      this.#tunnels.add(client);
      client.on('close', () => this.#tunnels.delete(client));
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      this.#tunnels.add(upstream);
      upstream.on('close', () => this.#tunnels.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
  }

  /** http://127.0.0.1:<port>, the value for HTTP_PROXY. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  /** Requests carried to `authority`, optionally only those with this x-request-id. */
  to(authority: string, requestId?: string): CarriedRequest[] {
    return this.carried.filter(
      (r) =>
        r.authority === authority && (requestId === undefined || r.headers['x-request-id'] === requestId),
    );
  }

  async stop(): Promise<void> {
    this.#agent.destroy();
    for (const socket of this.#tunnels) socket.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
