// XFCC over real sockets: a client-written x-forwarded-client-cert reaches the app only from a verified peer, by config.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import type { ForwardClientCert } from '../../../src/sidecar/config/model.js';
import { peerCertificateFromSocket } from '../../../src/sidecar/security/peer-certificate.js';
import { controlHeadersToRemove } from '../../../src/sidecar/security/sanitize.js';
import { XFCC_HEADER, xfccAction } from '../../../src/sidecar/security/xfcc.js';
import { foreignCa, type KeyedCert, leafCertificate } from '../identity/fixtures.js';
import { httpServer, spiffe, type TestServer } from './harness.js';

const FORGED = `By=${spiffe('foo', 'httpbin')};URI=${spiffe('istio-system', 'admin')}`;
const SERVER_ID = spiffe('foo', 'httpbin');
const CLIENT_ID = spiffe('foo', 'sleep');

let app: TestServer;
let rootPem: string;
let serverCert: KeyedCert;
let clientCert: KeyedCert;
let rogueCert: KeyedCert;

/** Each mode gets a small inbound sidecar: mTLS and plaintext listeners in front of the same app. */
interface Sidecar {
  mtlsPort: number;
  plainPort: number;
  close(): Promise<void>;
}

function inboundHandler(mode: ForwardClientCert) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.encrypted ? peerCertificateFromSocket(socket) : undefined;
    const headers: Record<string, string | string[]> = {};
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!.toLowerCase();
      const value = req.rawHeaders[i + 1]!;
      const existing = headers[name];
      headers[name] =
        existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    for (const name of controlHeadersToRemove(Object.keys(headers), { edge: false })) delete headers[name];
    const incoming = headers[XFCC_HEADER];
    const action = xfccAction(
      { mode, details: { subject: true, uri: true, dns: true }, localUriSans: [SERVER_ID] },
      {
        peer,
        incoming: incoming === undefined ? undefined : Array.isArray(incoming) ? incoming : [incoming],
      },
    );
    if (action.action === 'remove') delete headers[XFCC_HEADER];
    if (action.action === 'set') headers[XFCC_HEADER] = action.value;
    const upstream = httpRequest(
      { host: '127.0.0.1', port: app.port, path: req.url, method: req.method, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  };
}

async function sidecar(mode: ForwardClientCert): Promise<Sidecar> {
  const mtls = createHttpsServer(
    {
      cert: serverCert.certPem,
      key: serverCert.keyPem,
      ca: rootPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
    },
    inboundHandler(mode),
  );
  mtls.on('tlsClientError', () => {});
  const plain = createHttpServer(inboundHandler(mode));
  mtls.listen(0, '127.0.0.1');
  plain.listen(0, '127.0.0.1');
  await Promise.all([once(mtls, 'listening'), once(plain, 'listening')]);
  return {
    mtlsPort: (mtls.address() as AddressInfo).port,
    plainPort: (plain.address() as AddressInfo).port,
    async close() {
      for (const s of [mtls, plain]) {
        s.closeAllConnections();
        s.close();
      }
    },
  };
}

/** What the app received, as JSON of its request headers; `error` when the connection was refused. */
async function call(
  port: number,
  cert: KeyedCert | undefined,
): Promise<Record<string, string | string[]> | 'refused'> {
  const headers = {
    [XFCC_HEADER]: FORGED,
    'x-envoy-retry-on': '5xx',
    'x-trellis-reason': 'forged',
  };
  return new Promise((resolve) => {
    const options = { host: '127.0.0.1', port, path: '/headers', headers, agent: false as const };
    const req = cert
      ? httpsRequest({
          ...options,
          ca: rootPem,
          cert: cert.certPem,
          key: cert.keyPem,
          servername: 'localhost',
          checkServerIdentity: () => undefined,
        })
      : httpRequest(options);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve(res.statusCode === 200 ? JSON.parse(body) : 'refused'));
    });
    req.on('error', () => resolve('refused'));
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

before(async () => {
  const root = await foreignCa();
  rootPem = root.pem;
  serverCert = await leafCertificate(root, { spiffeId: SERVER_ID });
  clientCert = await leafCertificate(root, { spiffeId: CLIENT_ID });
  rogueCert = await leafCertificate(await foreignCa(), { spiffeId: CLIENT_ID });
  app = await httpServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.headers));
  });
});

after(async () => {
  await app.close();
});

describe('x-forwarded-client-cert forgery through an inbound sidecar', () => {
  const hash = () => new X509Certificate(clientCert.certPem).fingerprint256.replaceAll(':', '').toLowerCase();
  const own = () => `By=${SERVER_ID};Hash=${hash()};Subject="";URI=${CLIENT_ID}`;
  const expectations: Record<ForwardClientCert, () => string | undefined> = {
    SANITIZE: () => undefined,
    SANITIZE_SET: own,
    APPEND_FORWARD: () => `${FORGED},${own()}`,
    FORWARD_ONLY: () => FORGED,
    ALWAYS_FORWARD_ONLY: () => FORGED,
  };

  for (const mode of Object.keys(expectations) as ForwardClientCert[]) {
    test(`${mode}: plaintext never forwards it; a verified peer gets what the mode says`, async () => {
      const s = await sidecar(mode);
      try {
        const plain = await call(s.plainPort, undefined);
        assert.ok(plain !== 'refused');
        assert.equal(plain[XFCC_HEADER], undefined, 'plaintext client');
        const mtls = await call(s.mtlsPort, clientCert);
        assert.ok(mtls !== 'refused');
        assert.equal(mtls[XFCC_HEADER], expectations[mode](), 'mTLS client');
        for (const received of [plain, mtls]) {
          assert.equal(received['x-envoy-retry-on'], undefined, 'control headers never reach the app');
          assert.equal(received['x-trellis-reason'], undefined);
        }
        assert.equal(
          await call(s.mtlsPort, rogueCert),
          'refused',
          'a certificate from another CA gets nowhere',
        );
      } finally {
        await s.close();
      }
    });
  }
});
