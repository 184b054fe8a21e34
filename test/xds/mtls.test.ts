// The ADS server on an mTLS port: the hooks see the client's certificate and can refuse a false identity.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { ProxyInfo } from '../../src/controlplane/server/proxy-info.js';
import { Snapshot } from '../../src/controlplane/server/snapshot.js';
import { TrellisError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/log.js';
import { startClient, startServer, within } from './harness.js';
import { edsCluster, encode } from './resources.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Pki {
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  client(spiffe: string): { cert: Buffer; key: Buffer };
}

/** A throwaway CA, a server certificate for localhost, and SPIFFE client certificates, made by openssl. */
function makePki(dir: string): Pki {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/O=trellis-test-ca',
  );
  const issue = (name: string, san: string) => {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
    run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=${name}`);
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
    return { cert: readFileSync(join(dir, `${name}.pem`)), key: readFileSync(join(dir, `${name}.key`)) };
  };
  const server = issue('server', 'DNS:localhost,IP:127.0.0.1');
  let n = 0;
  return {
    ca: readFileSync(join(dir, 'ca.pem')),
    serverCert: server.cert,
    serverKey: server.key,
    client: (spiffe) => issue(`client${n++}`, `URI:${spiffe}`),
  };
}

/** The check an identity-aware control plane makes: the certificate's SPIFFE ID must be the node's. */
function authorize(proxy: ProxyInfo): void {
  const san = proxy.peer.certificate?.subjectaltname ?? '';
  const ns = String(proxy.node.metadata.NAMESPACE ?? '');
  const sa = String(proxy.node.metadata.SERVICE_ACCOUNT ?? '');
  const expected = `URI:spiffe://cluster.local/ns/${ns}/sa/${sa}`;
  if (!san.split(', ').includes(expected))
    throw new TrellisError(
      'XDS_IDENTITY',
      `certificate identity "${san || '(none)'}" is not ${expected.slice(4)}`,
    );
}

test('mTLS: the peer certificate reaches the hooks; a mismatched identity is refused', {
  skip: hasOpenssl() ? false : 'openssl is not installed',
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-xds-mtls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = makePki(dir);
  const srv = await startServer({
    authorize,
    listen: {
      credentials: grpc.ServerCredentials.createSsl(
        pki.ca,
        [{ cert_chain: pki.serverCert, private_key: pki.serverKey }],
        true,
      ),
    },
  });
  t.after(() => srv.close());
  const node = (id: string) => ({ id, metadata: { NAMESPACE: 'default', SERVICE_ACCOUNT: 'reviews' } });
  srv.cache.setSnapshot(
    'honest',
    Snapshot.create([encode.cluster(edsCluster('outbound|9080||reviews.default.svc.cluster.local'))]),
  );
  srv.cache.setSnapshot('liar', Snapshot.create([encode.cluster(edsCluster('secret'))]));

  const good = pki.client('spiffe://cluster.local/ns/default/sa/reviews');
  const honest = startClient(srv.port, {
    protocol: 'delta',
    node: node('honest'),
    credentials: () => grpc.credentials.createSsl(pki.ca, good.key, good.cert),
  });
  t.after(() => honest.close());
  const synced = await within(honest.synced(), 10_000, 'the mTLS client to sync');
  assert.deepEqual([...synced.clusters.keys()], ['outbound|9080||reviews.default.svc.cluster.local']);
  assert.equal(srv.server.proxyStatus()[0]?.proxyId, 'honest');

  // A workload of another service account claiming to be reviews.
  const other = pki.client('spiffe://cluster.local/ns/default/sa/ratings');
  let ended: (fields: Record<string, unknown>) => void = () => {};
  const streamEnded = new Promise<Record<string, unknown>>((resolve) => {
    ended = resolve;
  });
  const logger = {
    ...silentLogger,
    info: (msg: string, fields?: Record<string, unknown>) => {
      if (msg.startsWith('xDS stream ended')) ended(fields ?? {});
    },
  };
  const liar = startClient(srv.port, {
    protocol: 'delta',
    node: node('liar'),
    credentials: () => grpc.credentials.createSsl(pki.ca, other.key, other.cert),
    logger,
  });
  t.after(() => liar.close());
  const status = await within(streamEnded, 10_000, 'the lying client to be refused');
  assert.equal(status.code, grpc.status.PERMISSION_DENIED);
  assert.match(
    String(status.details),
    /proxy "liar" refused: certificate identity "URI:spiffe:\/\/cluster.local\/ns\/default\/sa\/ratings" is not spiffe:\/\/cluster.local\/ns\/default\/sa\/reviews/,
  );
  assert.equal(liar.snapshot?.clusters.size ?? 0, 0, 'the lying client got no config');
  assert.deepEqual(
    srv.server.proxyStatus().map((p) => p.proxyId),
    ['honest'],
  );
  assert.equal(srv.events.filter((e) => e.kind === 'connect' && e.proxyId === 'liar').length, 0);
});
