// The curl-like `fetch` tool: outputs, -w, -I, request options, HTTP_PROXY/HTTPS_PROXY, and curl's exit codes.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runFetch } from '../../examples/tools/fetch-command.js';
import { MiniMesh } from './helpers/mini-mesh.js';
import { selfSignedFor127 } from './helpers/self-signed.js';
import { DIST } from './helpers/spawn-app.js';

let plain: http.Server;
let secure: https.Server;
let notTls: net.Server;
let proxy: MiniMesh;
let origin: string;
let secureOrigin: string;
let notTlsPort: number;
let dir: string;
let caFile: string;
const notTlsSockets = new Set<net.Socket>();
const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

const listen = async (server: net.Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

before(async () => {
  plain = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.url === '/slow') return;
      if (req.url === '/empty') {
        req.socket.end();
        return;
      }
      if (req.url === '/reset') {
        req.socket.resetAndDestroy();
        return;
      }
      if (req.url?.startsWith('/status/')) {
        res.writeHead(Number(req.url.slice(8)), { 'x-served-by': 'test' }).end('status body');
        return;
      }
      res
        .writeHead(200, { 'content-type': 'text/plain', 'x-served-by': 'test' })
        .end('hello from the server\n');
    });
  });
  origin = `http://127.0.0.1:${await listen(plain)}`;
  const { cert, key } = await selfSignedFor127();
  dir = mkdtempSync(join(tmpdir(), 'fetch-test-'));
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, cert);
  secure = https.createServer({ cert, key }, (_req, res) => res.end('secret'));
  secureOrigin = `https://127.0.0.1:${await listen(secure)}`;
  notTls = net.createServer((socket) => {
    // Node's TLS client does not always close the TCP connection after a failed handshake; track it to clean up.
    notTlsSockets.add(socket);
    socket.on('close', () => notTlsSockets.delete(socket));
    socket.end('not tls at all\r\n');
  });
  notTlsPort = await listen(notTls);
  proxy = new MiniMesh({ route: (authority) => authority });
  await proxy.start();
});

after(async () => {
  plain.closeAllConnections();
  secure.closeAllConnections();
  for (const socket of notTlsSockets) socket.destroy();
  await Promise.all([plain, secure, notTls].map((s) => new Promise((r) => s.close(r))));
  await proxy.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[], env: Record<string, string> = {}) {
  const out: Buffer[] = [];
  let err = '';
  const code = await runFetch(args, {
    stdout: (d) => out.push(Buffer.from(d)),
    stderr: (t) => {
      err += t;
    },
    env,
  });
  return { code, out: Buffer.concat(out).toString('utf8'), err };
}

test('prints the body and exits 0; -o writes it to a file; -w prints the status', async () => {
  assert.deepEqual(await run([`${origin}/`]), { code: 0, out: 'hello from the server\n', err: '' });
  const file = join(dir, 'body.txt');
  const saved = await run(['-s', '-o', file, '-w', '%{http_code}\\n', `${origin}/`]);
  assert.deepEqual(saved, { code: 0, out: '200\n', err: '' });
  assert.equal(readFileSync(file, 'utf8'), 'hello from the server\n');
  const unavailable = await run(['-s', '-o', '/dev/null', '-w', '%{http_code}', `${origin}/status/503`]);
  assert.deepEqual(unavailable, { code: 0, out: '503', err: '' }, 'an HTTP error is not a curl error');
  const failed = await run(['-sS', '-f', `${origin}/status/503`]);
  assert.equal(failed.code, 22);
  assert.match(failed.err, /returned error: 503/);
});

test('-I sends HEAD and prints the status line and headers', async () => {
  const { code, out } = await run(['-I', `${origin}/`]);
  assert.equal(code, 0);
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(out, /\r\nx-served-by: test\r\n/);
  assert.ok(out.endsWith('\r\n\r\n'), 'no body after the headers');
  assert.equal(seen.at(-1)!.method, 'HEAD');
});

test('-X, -H (also attached, as in -HHost:x), -d and a URL without scheme reach the server as given', async () => {
  const { code } = await run([
    '-s',
    '-XPUT',
    '-H',
    'x-token: admin',
    '-HHost:httpbin.example.com',
    '-d',
    'k=v',
    origin.slice(7),
  ]);
  assert.equal(code, 0);
  const req = seen.at(-1)!;
  assert.equal(req.method, 'PUT');
  assert.equal(req.headers['x-token'], 'admin');
  assert.equal(req.headers.host, 'httpbin.example.com');
  assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.equal(req.body, 'k=v');
});

test('connection refused exits 7 and -w still prints 000, as the mTLS migration task expects of curl', async () => {
  const closed = net.createServer();
  const port = await listen(closed);
  await new Promise((r) => closed.close(r));
  const refusedUrl = `http://127.0.0.1:${port}/`;
  const quiet = await run(['-s', '-o', '/dev/null', '-w', '%{http_code}', refusedUrl]);
  assert.equal(quiet.code, 7);
  assert.equal(quiet.out, '000');
  assert.equal(quiet.err, '', '-s is silent');
  const loud = await run([refusedUrl]);
  assert.match(loud.err, /^curl: \(7\) /);
});

test('timeout exits 28, an empty reply 52, a reset 56', async () => {
  const t0 = performance.now();
  const slow = await run(['-s', '--max-time', '0.3', `${origin}/slow`]);
  assert.equal(slow.code, 28);
  assert.ok(performance.now() - t0 < 2000);
  assert.equal((await run(['-s', `${origin}/empty`])).code, 52);
  assert.equal((await run(['-s', `${origin}/reset`])).code, 56);
});

test('HTTPS: verified with --cacert, 60 without it, accepted with -k; TLS to a non-TLS server exits 35', async () => {
  assert.deepEqual(await run(['-s', '--cacert', caFile, `${secureOrigin}/`]), {
    code: 0,
    out: 'secret',
    err: '',
  });
  assert.equal((await run(['-s', `${secureOrigin}/`])).code, 60);
  assert.equal((await run(['-sk', `${secureOrigin}/`])).out, 'secret');
  assert.equal((await run(['-s', `https://127.0.0.1:${notTlsPort}/`])).code, 35);
});

test('HTTP_PROXY carries http:// requests in absolute form; NO_PROXY and --noproxy bypass it; -x overrides', async () => {
  const before = proxy.carried.length;
  const viaEnv = await run(['-s', `${origin}/through-proxy`], { HTTP_PROXY: proxy.url });
  assert.equal(viaEnv.out, 'hello from the server\n');
  assert.equal(proxy.carried.at(-1)!.rawUrl, `${origin}/through-proxy`);
  const lower = await run(['-s', `${origin}/lowercase`], {
    http_proxy: proxy.url,
    HTTP_PROXY: 'http://127.0.0.1:1',
  });
  assert.equal(lower.code, 0, 'http_proxy wins over HTTP_PROXY');
  assert.equal(proxy.carried.length, before + 2);
  await run(['-s', `${origin}/bypass`], { HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.0/8' });
  await run(['-s', '--noproxy', '*', `${origin}/bypass2`], { HTTP_PROXY: proxy.url });
  assert.equal(proxy.carried.length, before + 2, 'NO_PROXY matches skip the proxy');
  await run(['-s', '-x', proxy.url, `${origin}/explicit`]);
  assert.equal(proxy.carried.at(-1)!.rawUrl, `${origin}/explicit`);
  const deadProxy = await run(['-s', `${origin}/`], { HTTP_PROXY: 'http://127.0.0.1:1' });
  assert.equal(deadProxy.code, 7, 'an unreachable proxy is a connect failure');
});

test('HTTPS_PROXY tunnels https:// requests with CONNECT', async () => {
  const { code, out } = await run(['-s', '--cacert', caFile, `${secureOrigin}/`], { HTTPS_PROXY: proxy.url });
  assert.equal(code, 0);
  assert.equal(out, 'secret');
  assert.deepEqual(
    [proxy.carried.at(-1)!.method, proxy.carried.at(-1)!.authority],
    ['CONNECT', secureOrigin.slice('https://'.length)],
  );
});

test('a bad command line exits 2 with the usage', async () => {
  const { code, err } = await run(['--bogus', origin]);
  assert.equal(code, 2);
  assert.match(err, /usage: fetch URL/);
});

test('examples/tools/bin/fetch runs the compiled tool and passes the exit code on', async () => {
  const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    execFile(
      `${DIST}../examples/tools/bin/fetch`,
      ['-s', '-w', ' %{http_code}', `${origin}/`],
      { env: { PATH: process.env.PATH ?? '' } },
      (error, stdout) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout }),
    );
  });
  assert.deepEqual(result, { code: 0, stdout: 'hello from the server\n 200' });
});
