// `trellis x certs` against a real CA directory, a PEM file and a sidecar admin endpoint.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { envoyCertsJson, type IdentityAgent } from '../../../src/sidecar/identity/index.js';
import { agentFor, leafCertificate, meshSigner, type RunningCa, startCa, tempDir } from './fixtures.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../../../bin/trellis.js', import.meta.url));

let running: RunningCa;
let agent: IdentityAgent;
let admin: http.Server;
let adminUrl: string;
let pemFile: string;
const dirs: { remove(): Promise<void> }[] = [];

before(async () => {
  running = await startCa();
  agent = await agentFor(running, 'reviews', { requestedTtlMs: 30 * 60_000 });
  await agent.start();
  admin = http.createServer((req, res) => {
    if (req.url !== '/certs') return void res.writeHead(404).end();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(envoyCertsJson(agent.current(), Date.now())));
  });
  await new Promise<void>((r) => admin.listen(0, '127.0.0.1', r));
  adminUrl = `http://127.0.0.1:${(admin.address() as AddressInfo).port}`;
  const d = await tempDir();
  dirs.push(d);
  pemFile = join(d.path, 'ratings.pem');
  const now = Date.now();
  const expired = await leafCertificate(await meshSigner(running.stateDir), {
    spiffeId: 'spiffe://cluster.local/ns/default/sa/ratings',
    notBefore: new Date(now - 2 * 3_600_000),
    notAfter: new Date(now - 3_600_000),
  });
  await writeFile(pemFile, expired.certPem);
});

after(async () => {
  agent.stop();
  admin.close();
  await running.close();
  await Promise.all(dirs.map((d) => d.remove()));
});

interface JsonCert {
  source: string;
  kind: string;
  spiffeId: string | null;
  serial: string;
  status: string;
  note: string | null;
}

test('-o json lists the CA roots, a PEM file and a sidecar admin, with status and warnings', async () => {
  const { stdout } = await run(process.execPath, [
    BIN,
    'x',
    'certs',
    '--ca-dir',
    running.stateDir,
    '--file',
    pemFile,
    '--admin',
    adminUrl,
    '-o',
    'json',
  ]);
  const certs = (JSON.parse(stdout) as { certificates: JsonCert[] }).certificates;
  const signing = certs.find((c) => c.kind === 'signing root');
  assert.equal(signing?.serial, running.ca.signingRoot.serial);
  assert.equal(signing?.status, 'ok');
  assert.ok(certs.some((c) => c.kind === 'serving' && c.status === 'ok'));
  const expired = certs.find((c) => c.source === pemFile);
  assert.equal(expired?.spiffeId, 'spiffe://cluster.local/ns/default/sa/ratings');
  assert.equal(expired?.status, 'expired');
  const workload = certs.find((c) => c.source === adminUrl && c.kind === 'workload');
  assert.equal(workload?.serial, agent.current()!.default.leaf.serial);
  assert.equal(workload?.spiffeId, 'spiffe://cluster.local/ns/default/sa/reviews');
  // A 30-minute certificate is always under the one-hour line: the CLI says so.
  assert.equal(workload?.status, 'warning');
  assert.match(workload?.note ?? '', /under 1h/);
  assert.ok(certs.some((c) => c.source === adminUrl && c.kind === 'root'));
});

test('the table names every column the operator needs and ends with the warnings', async () => {
  const { stdout } = await run(process.execPath, [BIN, 'x', 'certs', '--admin', adminUrl, '--file', pemFile]);
  const [header] = stdout.split('\n');
  for (const column of [
    'KIND',
    'SPIFFE ID',
    'SUBJECT',
    'SERIAL',
    'NOT BEFORE',
    'NOT AFTER',
    'TIME LEFT',
    'STATUS',
  ]) {
    assert.ok(header!.includes(column), column);
  }
  assert.match(stdout, /^EXPIRED: workload [0-9a-f]+: expired/m);
  assert.match(stdout, /^WARNING: workload [0-9a-f]+: expires in \d+m/m);
});

test('a source that cannot be read fails the command with a message naming it', async () => {
  await assert.rejects(
    run(process.execPath, [BIN, 'x', 'certs', '--ca-dir', '/nonexistent/ca']),
    (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr, /CA directory \/nonexistent\/ca holds no certificates/);
      return true;
    },
  );
});
