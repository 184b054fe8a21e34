// Request and connection contexts for tests, with defaults for everything a test does not care about.

import {
  type ConnectionContext,
  headersFromRecord,
  type PeerCertificate,
  peerFromSpiffeId,
  type RequestContext,
} from '../context.js';

export interface ContextInit {
  method?: string;
  path?: string;
  authority?: string;
  headers?: Record<string, string | string[]>;
  /** A SPIFFE ID (mTLS peer) or a full certificate; undefined = plaintext. */
  peer?: string | PeerCertificate;
  directRemoteIp?: string;
  remoteIp?: string;
  destinationIp?: string;
  destinationPort?: number;
  sni?: string;
}

function peerOf(p: ContextInit['peer']): PeerCertificate | undefined {
  if (p === undefined) return undefined;
  return typeof p === 'string' ? peerFromSpiffeId(p) : p;
}

export function connectionContext(init: ContextInit = {}): ConnectionContext {
  const direct = init.directRemoteIp ?? '10.1.0.100';
  return {
    directRemoteIp: direct,
    remoteIp: init.remoteIp ?? direct,
    destinationIp: init.destinationIp ?? '10.1.0.1',
    destinationPort: init.destinationPort ?? 9080,
    requestedServerName: init.sni ?? '',
    peer: peerOf(init.peer),
    metadata: new Map(),
  };
}

export function requestContext(init: ContextInit = {}): RequestContext {
  return {
    ...connectionContext(init),
    method: init.method ?? 'GET',
    path: init.path ?? '/',
    authority: init.authority ?? 'httpbin.foo:8000',
    headers: headersFromRecord(init.headers ?? {}),
  };
}
