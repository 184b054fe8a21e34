// The benchmarked proxy: the transport alone (HttpServer in, Http1Pool out), one process, one thread.

import type { AddressInfo } from 'node:net';
import net from 'node:net';
import type { Handler } from '../../src/sidecar/http/message.js';
import { HttpServer } from '../../src/sidecar/http/server.js';
import { Http1Pool } from '../../src/sidecar/upstream/pool/h1-pool.js';

const upstreamPort = Number(process.argv[2]);
// With "signal", the handler passes the downstream abort signal on, as a router will.
const withSignal = process.argv[3] === 'signal';
const pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: upstreamPort } });
const handler: Handler = withSignal
  ? (req, ctx) => pool.request(req, { signal: ctx.signal })
  : (req) => pool.request(req);
const server = new HttpServer({ handler });
const listener = net.createServer({ allowHalfOpen: true }, (socket) => server.serve(socket));
listener.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(listener.address() as AddressInfo).port}\n`);
});

// Exit cleanly on a signal so `node --cpu-prof` writes its profile.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
