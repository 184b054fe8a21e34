// Shared pieces for the security filter tests: deciding a request through a translated chain, tokens, servers.

import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import type { HttpFilterConfig } from '../../../src/sidecar/config/model.js';
import type { RequestContext } from '../../../src/sidecar/security/context.js';
import type { ExtAuthzTransport } from '../../../src/sidecar/security/ext-authz/transport.js';
import { HttpSecurityChain, type SecurityOutcome } from '../../../src/sidecar/security/http-chain.js';
import { type ContextInit, requestContext } from '../../../src/sidecar/security/testing/contexts.js';

export { connectionContext, requestContext } from '../../../src/sidecar/security/testing/contexts.js';

export const spiffe = (ns: string, sa: string) => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;

/** The status a client would see: 200 when the chain lets the request through. */
export function statusOf(outcome: SecurityOutcome): number {
  return outcome.action === 'continue' ? 200 : outcome.status;
}

/** Runs a request through a chain built from `filters`; returns the outcome and the context it ran on. */
export async function decide(
  filters: readonly HttpFilterConfig[],
  init: ContextInit,
  transport?: ExtAuthzTransport,
): Promise<{ outcome: SecurityOutcome; ctx: RequestContext }> {
  const chain = new HttpSecurityChain(filters, { extAuthzTransport: transport });
  const ctx = requestContext(init);
  return { outcome: await chain.process(ctx), ctx };
}

export interface Issuer {
  iss: string;
  kid: string;
  /** The JWKS with the public key, as a RequestAuthentication `jwks` or a fetched jwksUri document. */
  jwks: string;
  sign(
    claims: JWTPayload,
    opts?: { header?: Record<string, unknown>; expiresIn?: string | number },
  ): Promise<string>;
  privateKey: CryptoKey;
  publicJwk: Record<string, unknown>;
}

/** An issuer with a fresh key: RS256 by default, or ES256 / EdDSA. */
export async function issuer(
  iss: string,
  alg: 'RS256' | 'ES256' | 'EdDSA' = 'RS256',
  kid = `${alg}-1`,
): Promise<Issuer> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return {
    iss,
    kid,
    jwks: JSON.stringify({ keys: [publicJwk] }),
    privateKey,
    publicJwk,
    async sign(claims, opts = {}) {
      const jwt = new SignJWT({ iss, ...claims }).setProtectedHeader({
        alg,
        kid,
        typ: 'JWT',
        ...opts.header,
      });
      if (claims.iat === undefined) jwt.setIssuedAt();
      if (opts.expiresIn !== undefined) jwt.setExpirationTime(opts.expiresIn);
      return jwt.sign(privateKey);
    },
  };
}

export interface TestServer {
  url: string;
  port: number;
  requests: IncomingMessage[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1:0 whose handler the test supplies; it records every request. */
export async function httpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
