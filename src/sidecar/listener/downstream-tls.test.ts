// TLS termination of accepted sockets: a gateway chain from files (ALPN, optional client certificate), and a
// client that gives up mid-handshake is noticed at once even on a half-open listener socket.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import type { DownstreamTls } from '../config/model.js';
import { TlsTerminator } from './downstream-tls.js';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = hasOpenssl ? false : 'openssl is not installed';

let dir = '';
let listener: net.Server;
let port = 0;
let onSocket: (s: net.Socket) => void = () => {};

before(async () => {
  if (!hasOpenssl) return;
  dir = mkdtempSync(join(tmpdir(), 'trellis-dtls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'key.pem',
      '-out',
      'cert.pem',
      '-days',
      '1',
      '-subj',
      '/CN=gateway.example',
      '-addext',
      'subjectAltName=DNS:gateway.example',
    ],
    { cwd: dir, stdio: 'ignore' },
  );
  // The sidecar's listeners accept half-open sockets (tcp_proxy forwards half-closes).
  listener = net.createServer({ allowHalfOpen: true }, (s) => onSocket(s));
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  port = (listener.address() as net.AddressInfo).port;
});

after(() => {
  listener?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function gatewayTls(): DownstreamTls {
  return {
    requireClientCertificate: false,
    alpn: ['h2', 'http/1.1'],
    certificateFile: { certChain: join(dir, 'cert.pem'), privateKey: join(dir, 'key.pem') },
    minimumProtocol: 'TLSv1_2',
    maximumProtocol: 'TLSv1_3',
  };
}

test('a gateway chain terminates TLS from its files and negotiates ALPN', { skip }, async () => {
  const terminator = new TlsTerminator(gatewayTls(), 'Listener "0.0.0.0_8443"', {});
  const secured = new Promise<tls.TLSSocket>((resolve, reject) => {
    onSocket = (raw) => terminator.terminate(raw).then(resolve, reject);
  });
  const client = tls.connect({
    port,
    host: '127.0.0.1',
    servername: 'gateway.example',
    ca: readFileSync(join(dir, 'cert.pem')),
    ALPNProtocols: ['http/1.1'],
  });
  await once(client, 'secureConnect');
  const server = await secured;
  assert.equal(server.alpnProtocol, 'http/1.1');
  assert.equal((server as unknown as { servername: string }).servername, 'gateway.example');
  client.write('hello');
  const [data] = await once(server, 'data');
  assert.equal(data.toString(), 'hello');
  client.destroy();
  server.destroy();
  terminator.close();
});

test('a client that leaves during the handshake fails the termination at once', { skip }, async () => {
  const terminator = new TlsTerminator(gatewayTls(), 'Listener "0.0.0.0_8443"', {});
  const result = new Promise<string>((resolve) => {
    onSocket = (raw) =>
      terminator.terminate(raw).then(
        () => resolve('secured'),
        (e: Error) => resolve(`refused: ${e.message}`),
      );
  });
  // A ClientHello, then the client gives up (as a client failing its own checks does).
  const client = tls.connect({
    port,
    host: '127.0.0.1',
    checkServerIdentity: () => new Error('not you'),
    ca: readFileSync(join(dir, 'cert.pem')),
    servername: 'gateway.example',
  });
  client.on('error', () => client.destroy());
  const outcome = await result;
  assert.match(outcome, /^refused: /);
  terminator.close();
});

test('mesh chains need the workload certificate: a clear error without one', () => {
  assert.throws(
    () =>
      new TlsTerminator(
        {
          ...gatewayTls(),
          certificateFile: undefined,
          certificateSecret: 'default',
          validationSecret: 'ROOTCA',
        } as DownstreamTls,
        'Listener "virtualInbound" filter chain "9080-mtls-http"',
        {},
      ),
    /virtualInbound.*9080-mtls-http" terminates mesh mTLS, but the sidecar has no workload certificate/,
  );
});
