// Shared pieces for the identity integration tests: a CA on a real gRPC port, agents, rogue certificates.

import { webcrypto } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { Server } from '@grpc/grpc-js';
import {
  createRootCertificate,
  issueWorkloadCertificate,
  type Signer,
} from '../../../src/controlplane/ca/certificates.js';
import {
  CertificateService,
  caServerCredentials,
  MeshCa,
  type MeshCaOptions,
} from '../../../src/controlplane/ca/index.js';
import {
  generateP256,
  importSigningKeyPem,
  p256SigningKey,
  privateKeyToPem,
} from '../../../src/controlplane/ca/keys.js';
import { x509 } from '../../../src/controlplane/ca/x509.js';
import {
  type CaClient,
  type CertificateCall,
  GrpcCaClient,
  IdentityAgent,
  type IdentityAgentOptions,
  peerIdentity,
} from '../../../src/sidecar/identity/index.js';

export interface RunningCa {
  ca: MeshCa;
  service: CertificateService;
  server: Server;
  address: string;
  stateDir: string;
  close(): Promise<void>;
}

export async function tempDir(prefix = 'trellis-id-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A CA serving CreateCertificate over TLS on 127.0.0.1 (port 0 unless `port` is given). */
export async function startCa(
  opts: Partial<MeshCaOptions> & { port?: number; ca?: MeshCa } = {},
): Promise<RunningCa> {
  const dir = opts.stateDir ? undefined : await tempDir('trellis-ca-');
  const stateDir = opts.stateDir ?? join(dir!.path, 'ca');
  const ca = opts.ca ?? (await MeshCa.open({ ...opts, stateDir }));
  const service = new CertificateService({ ca });
  const server = new Server();
  service.addTo(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${opts.port ?? 0}`, caServerCredentials(ca), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    ca,
    service,
    server,
    address: `127.0.0.1:${port}`,
    stateDir,
    async close() {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
      if (!opts.ca) ca.close();
      await dir?.remove();
    },
  };
}

export async function tokenFor(ca: MeshCa, serviceAccount: string, namespace = 'default'): Promise<string> {
  return ca.tokenIssuer.issue({
    namespace,
    serviceAccount,
    podName: `${serviceAccount}-0`,
    podUid: `uid-${serviceAccount}`,
  });
}

/** An agent for `serviceAccount` talking to `running` over gRPC with a valid token. */
export async function agentFor(
  running: RunningCa,
  serviceAccount: string,
  opts: Partial<IdentityAgentOptions> = {},
): Promise<IdentityAgent> {
  const token = await tokenFor(running.ca, serviceAccount);
  return new IdentityAgent({
    identity: { trustDomain: running.ca.trustDomain, namespace: 'default', serviceAccount },
    ca: new GrpcCaClient({ address: running.address }),
    caRootsPem: running.ca.trustBundle.pem,
    token: () => token,
    ...opts,
  });
}

export interface KeyedCert {
  certPem: string;
  keyPem: string;
}

/** A root that is not the mesh's: what an attacker can mint. */
export async function foreignCa(trustDomain = 'cluster.local'): Promise<Signer & { pem: string }> {
  const keys = await generateP256();
  const now = Date.now();
  const cert = await createRootCertificate({
    trustDomain,
    keys,
    signingKey: p256SigningKey(keys),
    validity: { notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 86_400_000) },
  });
  return { cert, signingKey: p256SigningKey(keys), pem: cert.toString('pem') };
}

/** A leaf signed by `signer` with any identity and validity: for expired, not-yet-valid, foreign certs. */
export async function leafCertificate(
  signer: Signer,
  opts: { spiffeId: string; notBefore?: Date; notAfter?: Date },
): Promise<KeyedCert> {
  const keys = await generateP256();
  const now = Date.now();
  const cert = await issueWorkloadCertificate(signer, {
    publicKey: await x509.PublicKey.create(keys.publicKey as never),
    spiffeId: opts.spiffeId,
    validity: {
      notBefore: opts.notBefore ?? new Date(now - 60_000),
      notAfter: opts.notAfter ?? new Date(now + 3_600_000),
    },
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyToPem(keys.privateKey) };
}

/** The mesh CA's own signer, so tests can mint mesh certificates with odd validity. */
export async function meshSigner(stateDir: string): Promise<Signer> {
  const certPem = await readFile(join(stateDir, 'ca-cert.pem'), 'utf8');
  const keyPem = await readFile(join(stateDir, 'ca-key.pem'), 'utf8');
  return {
    cert: new x509.X509Certificate(certPem),
    signingKey: await importSigningKeyPem(keyPem, 'ca-key.pem'),
  };
}

export interface Exchange {
  /** What the server sent back before the connection closed. */
  data: string;
  error: Error | undefined;
  /** Negotiated at secureConnect (TLS sockets only). */
  protocol?: string | null;
  alpn?: string | false;
  reused?: boolean;
  /** The peer's SPIFFE ID and certificate serial as seen at secureConnect (no serial when resumed). */
  peer?: string | undefined;
  peerSerial?: string | undefined;
}

/**
 * Writes `ping` and collects the reply until close. Under TLS 1.3 a client's handshake can "succeed"
 * before the server rejects its certificate, so outcomes are judged by data and close, never by
 * secureConnect.
 */
export function exchange(
  socket: tls.TLSSocket | import('node:net').Socket,
  payload = 'ping',
): Promise<Exchange> {
  return new Promise((resolve) => {
    let data = '';
    let error: Error | undefined;
    const negotiated: Pick<Exchange, 'protocol' | 'alpn' | 'reused' | 'peer' | 'peerSerial'> = {};
    socket.setTimeout(5000, () => socket.destroy(new Error('timed out')));
    socket.on('data', (d: Buffer) => {
      data += d.toString();
    });
    socket.on('error', (e) => {
      error ??= e;
    });
    socket.on('close', () => resolve({ data, error, ...negotiated }));
    if (socket instanceof tls.TLSSocket) {
      socket.once('secureConnect', () => {
        Object.assign(negotiated, {
          protocol: socket.getProtocol(),
          alpn: socket.alpnProtocol,
          reused: socket.isSessionReused(),
          peer: peerIdentity(socket),
          peerSerial: socket.getPeerCertificate()?.serialNumber?.toLowerCase(),
        });
        socket.write(payload);
      });
    } else {
      socket.once('connect', () => socket.write(payload));
    }
  });
}

/** A server that answers each `ping` with `pong <peer SPIFFE ID>` and closes. */
export function identityEcho(server: tls.Server): Promise<number> {
  server.on('secureConnection', (socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end(`pong ${peerIdentity(socket) ?? '(none)'}`));
  });
  server.on('tlsClientError', () => {});
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

export type CsrKey = 'P-256' | 'P-384' | 'RSA-1024' | 'RSA-2048';
export type San = { type: 'url' | 'dns' | 'ip' | 'email'; value: string };

/** A CSR with any SANs and key type: what a misbehaving workload could send. */
export async function craftCsr(opts: { sans?: San[]; key?: CsrKey }): Promise<string> {
  const kind = opts.key ?? 'P-256';
  const alg = kind.startsWith('RSA')
    ? {
        name: 'RSASSA-PKCS1-v1_5',
        hash: 'SHA-256',
        publicExponent: new Uint8Array([1, 0, 1]),
        modulusLength: Number(kind.slice(4)),
      }
    : { name: 'ECDSA', namedCurve: kind };
  const pair = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const signing = kind.startsWith('RSA')
    ? alg
    : { name: 'ECDSA', hash: kind === 'P-384' ? 'SHA-384' : 'SHA-256' };
  const req = await x509.Pkcs10CertificateRequestGenerator.create({
    keys: pair as never,
    signingAlgorithm: signing as never,
    extensions: opts.sans ? [new x509.SubjectAlternativeNameExtension(opts.sans)] : [],
  });
  return req.toString('pem');
}

export interface Traffic {
  ok: number;
  failures: string[];
  /** Resolves after `n` more successful exchanges. */
  more(n: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Steady traffic over new connections: one exchange after another, paced by `gapMs`. Every exchange
 * whose reply does not satisfy `check` is a failure, with the reason kept for the assertion message.
 */
export function startTraffic(opts: {
  connect: () => tls.TLSSocket;
  check: (reply: Exchange) => string | undefined;
  gapMs?: number;
}): Traffic {
  let running = true;
  const waiters: { at: number; resolve: () => void }[] = [];
  const traffic: Traffic = {
    ok: 0,
    failures: [],
    more(n) {
      return new Promise((resolve) => waiters.push({ at: traffic.ok + n, resolve }));
    },
    async stop() {
      running = false;
      await loop;
    },
  };
  const loop = (async () => {
    while (running) {
      const socket = opts.connect();
      const reply = await exchange(socket);
      const problem = opts.check(reply);
      if (problem) traffic.failures.push(problem);
      else traffic.ok++;
      for (const w of waiters.filter((x) => x.at <= traffic.ok)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      await sleep(opts.gapMs ?? 10);
    }
  })();
  return traffic;
}

/** A connection kept open, pinging every `everyMs`; any missing or wrong reply is recorded. */
export function longLived(opts: { socket: tls.TLSSocket; everyMs?: number }): {
  replies: number;
  problems: string[];
  stop(): Promise<void>;
} {
  const state = { replies: 0, problems: [] as string[] };
  const socket = opts.socket;
  let buffered = '';
  let closed = false;
  socket.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl = buffered.indexOf('\n');
    while (nl !== -1) {
      if (buffered.slice(0, nl) === 'pong') state.replies++;
      else state.problems.push(`unexpected reply ${JSON.stringify(buffered.slice(0, nl))}`);
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
    }
  });
  socket.on('error', (e) => state.problems.push(`error: ${e.message}`));
  socket.on('close', () => {
    closed = true;
  });
  const timer = setInterval(() => {
    if (closed) return;
    socket.write('ping\n');
  }, opts.everyMs ?? 50);
  return {
    get replies() {
      return state.replies;
    },
    problems: state.problems,
    async stop() {
      clearInterval(timer);
      if (closed) state.problems.push('the long-lived connection was closed');
      socket.end();
    },
  };
}

/** Answers every line with `pong`; a one-shot `ping` without newline gets `pong <peer>` and a close. */
export function lineEcho(server: tls.Server): Promise<number> {
  server.on('secureConnection', (socket) => {
    socket.on('error', () => {});
    let first = true;
    socket.on('data', (d: Buffer) => {
      const text = d.toString();
      if (first && text === 'ping') {
        socket.end(
          `pong ${peerIdentity(socket) ?? '(none)'} ${socket.getPeerCertificate()?.serialNumber?.toLowerCase() ?? '-'}`,
        );
        return;
      }
      first = false;
      for (const line of text.split('\n').filter(Boolean))
        socket.write(line === 'ping' ? 'pong\n' : 'what?\n');
    });
  });
  server.on('tlsClientError', () => {});
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** Polls `condition` every few milliseconds (for states that raise no event), failing after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The CA without the network: the real issuance path, for tests that drive time with a ManualClock. */
export function inProcessCaClient(
  service: CertificateService,
  opts: { failNext?: number } = {},
): CaClient & { calls: number; failNext: number } {
  const client = {
    calls: 0,
    failNext: opts.failNext ?? 0,
    async createCertificate(call: CertificateCall): Promise<string[]> {
      client.calls++;
      if (client.failNext > 0) {
        client.failNext--;
        throw new Error('CA unreachable (simulated network failure)');
      }
      const issued = await service.createCertificate({
        csr: call.csrPem,
        validitySeconds: call.validitySeconds,
        credentials: call.token ? { authorization: `Bearer ${call.token}` } : {},
      });
      return issued.certChain;
    },
  };
  return client;
}
