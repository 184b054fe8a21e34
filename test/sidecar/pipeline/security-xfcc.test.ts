// Real mTLS into the pipeline: principals from the client certificate, and XFCC set from it (SANITIZE_SET).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { securityPipelineOptions } from '../../../src/sidecar/http/pipeline/security/index.js';
import { foreignCa, type KeyedCert, leafCertificate } from '../../security/identity/fixtures.js';
import { TestClusters } from './clusters.js';
import { type RunningPipeline, request, startPipeline, type Upstream } from './harness.js';
import {
  type ClientCert,
  echoOf,
  INBOUND_CLUSTER,
  inboundHcm,
  mtlsRequest,
  startEcho,
} from './security-fixtures.js';

const REVIEWS = 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews';
const PRODUCTPAGE = 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage';
const RATINGS = 'spiffe://cluster.local/ns/default/sa/bookinfo-ratings';
const FORGED = `By=${REVIEWS};URI=spiffe://cluster.local/ns/istio-system/sa/admin`;
const XFCC = 'x-forwarded-client-cert';

let app: Upstream;
let clusters: TestClusters;
let caPem: string;
let server: KeyedCert;
let productpage: ClientCert;
let ratings: ClientCert;

before(async () => {
  app = await startEcho();
  clusters = new TestClusters();
  clusters.add({ name: INBOUND_CLUSTER, endpoints: [{ port: app.port }] });
  const ca = await foreignCa();
  caPem = ca.pem;
  server = await leafCertificate(ca, { spiffeId: REVIEWS });
  productpage = { ...(await leafCertificate(ca, { spiffeId: PRODUCTPAGE })), caPem };
  ratings = { ...(await leafCertificate(ca, { spiffeId: RATINGS })), caPem };
});

after(async () => {
  clusters.close();
  await app.close();
});

describe("reviews' mTLS listener (golden, SANITIZE_SET) behind a real TLS handshake", () => {
  let p: RunningPipeline;
  before(async () => {
    p = await startPipeline({
      config: inboundHcm('authorization/reviews-v1'),
      clusters,
      keepClusters: true,
      direction: 'inbound',
      mtls: { certPem: server.certPem, keyPem: server.keyPem, caPem, localIdentity: REVIEWS },
      originalDestination: { address: '127.0.0.1', port: 9080 },
      options: securityPipelineOptions(),
    });
  });
  after(() => p.close());

  const get = (cert: ClientCert) =>
    mtlsRequest(p.port, cert, { path: '/reviews/1', headers: { host: 'reviews:9080', [XFCC]: FORGED } });

  test("the client's XFCC is replaced with By (us), Hash, Subject and URI of its verified certificate", async () => {
    const r = await get(productpage);
    assert.equal(r.status, 200, 'reviews-viewer allows bookinfo-productpage, read from its certificate');
    const hash = new X509Certificate(productpage.certPem).fingerprint256.replaceAll(':', '').toLowerCase();
    assert.equal(echoOf(r).headers[XFCC], `By=${REVIEWS};Hash=${hash};Subject="";URI=${PRODUCTPAGE}`);
  });

  test("another workload's certificate is another principal: refused", async () => {
    const r = await get(ratings);
    assert.equal(r.status, 403);
    assert.equal(r.body, 'RBAC: access denied');
  });
});

describe('without a verified peer', () => {
  test('a client-written XFCC never reaches the app over plaintext', async () => {
    const p = await startPipeline({
      config: inboundHcm('authorization/reviews-v1', { httpFilters: [] }),
      clusters,
      keepClusters: true,
      direction: 'inbound',
      options: securityPipelineOptions(),
    });
    try {
      const r = await request(p.port, { path: '/reviews/1', headers: { [XFCC]: FORGED } });
      assert.equal(r.status, 200);
      assert.equal(echoOf(r).headers[XFCC], undefined);
    } finally {
      await p.close();
    }
  });
});
