// Test applications behind the sidecars: a gRPC echo service, a server-first TCP server, a mesh mTLS client.

import { once } from 'node:events';
import net from 'node:net';
import type tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { ControlPlane } from '../../../src/controlplane/main.js';
import { GrpcCaClient } from '../../../src/sidecar/identity/ca-client.js';
import { IdentityAgent } from '../../../src/sidecar/identity/identity-agent.js';
import { MeshTls } from '../../../src/sidecar/identity/mesh-tls.js';

type Json = Record<string, unknown>;
const json = {
  serialize: (v: Json) => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer) => JSON.parse(b.toString()) as Json,
};

function method(path: string, requestStream: boolean, responseStream: boolean) {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  };
}

export const echoService = {
  echo: method('/trellis.test.Echo/Echo', false, false),
  count: method('/trellis.test.Echo/Count', false, true),
  chat: method('/trellis.test.Echo/Chat', true, true),
} satisfies grpc.ServiceDefinition;

export const EchoClient = grpc.makeGenericClientConstructor(echoService, 'Echo');
export type EchoClientInstance = InstanceType<typeof EchoClient> &
  Record<string, (...args: unknown[]) => unknown>;

/** A grpc-js server (h2c) answering Echo, Count (server streaming) and Chat (bidirectional). */
export async function startGrpcApp(host: string, port: number, name: string): Promise<grpc.Server> {
  const server = new grpc.Server();
  server.addService(echoService, {
    echo: (call: grpc.ServerUnaryCall<Json, Json>, cb: grpc.sendUnaryData<Json>) =>
      cb(null, { echo: call.request.text, server: name }),
    count: (call: grpc.ServerWritableStream<Json, Json>) => {
      const n = Number(call.request.upTo);
      for (let i = 1; i <= n; i++) call.write({ i });
      call.end();
    },
    chat: (call: grpc.ServerDuplexStream<Json, Json>) => {
      call.on('data', (m: Json) => call.write({ reply: `re: ${m.text}` }));
      call.on('end', () => call.end());
    },
  });
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return server;
}

export function unary(client: EchoClientInstance, text: string): Promise<Json> {
  return new Promise((resolve, reject) =>
    client.echo({ text }, (err: Error | null, res: Json) => (err ? reject(err) : resolve(res))),
  );
}

export function serverStream(client: EchoClientInstance, upTo: number): Promise<Json[]> {
  return new Promise((resolve, reject) => {
    const got: Json[] = [];
    const call = client.count({ upTo }) as grpc.ClientReadableStream<Json>;
    call.on('data', (m: Json) => got.push(m));
    call.on('error', reject);
    call.on('end', () => resolve(got));
  });
}

export function chat(client: EchoClientInstance, texts: string[]): Promise<Json[]> {
  return new Promise((resolve, reject) => {
    const got: Json[] = [];
    const call = client.chat() as grpc.ClientDuplexStream<Json, Json>;
    call.on('data', (m: Json) => got.push(m));
    call.on('error', reject);
    call.on('end', () => resolve(got));
    for (const text of texts) call.write({ text });
    call.end();
  });
}

/** A server-first protocol (SMTP, MySQL): the server speaks first, the client only answers. */
export async function startBannerApp(host: string, port: number, banner: string): Promise<net.Server> {
  const server = net.createServer((s) => {
    s.write(banner);
    s.on('data', (d) => s.end(`bye ${d.toString('latin1')}`));
    s.on('error', () => {});
  });
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}

/** Sends `payload`, half-closes, and resolves with everything received until the server's FIN. */
export function tcpExchange(socket: net.Socket, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      out += d;
    });
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
    socket.end(payload);
  });
}

/** A workload certificate from the control plane's CA, as a mesh client (not a sidecar) would hold it. */
export async function meshClient(
  cp: ControlPlane,
  serviceAccount: string,
): Promise<{ tls: MeshTls; stop(): void }> {
  const token = await cp.issueWorkloadToken({
    namespace: 'default',
    serviceAccount,
    podName: `${serviceAccount}-0`,
  });
  const agent = new IdentityAgent({
    identity: { trustDomain: 'cluster.local', namespace: 'default', serviceAccount },
    ca: new GrpcCaClient({ address: cp.addresses.xdsTls }),
    caRootsPem: cp.caRootPem(),
    token: () => token,
  });
  await agent.start();
  const meshTls = new MeshTls(agent);
  return {
    tls: meshTls,
    stop: () => {
      meshTls.close();
      agent.stop();
    },
  };
}

/** Opens mesh mTLS to `host:port` as the client sidecar would (ALPN and the identities allowed). */
export function meshConnect(
  m: MeshTls,
  opts: { host: string; port: number; alpn: string[]; allowed: string[] },
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = m.connect({
      host: opts.host,
      port: opts.port,
      alpnProtocols: opts.alpn,
      allowedIdentities: opts.allowed,
    });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}
