// What the pipeline keeps about one downstream connection: computed once, read by every request on it.

import type { DownstreamConnection } from '../../runtime/contracts.js';
import type { HttpServer } from '../server.js';

/** A downstream connection as the pipeline's requests see it. */
export class ConnectionState {
  readonly downstream: DownstreamConnection;
  readonly direction: DownstreamConnection['direction'];
  /** The peer's verified SPIFFE identity (mesh mTLS), or undefined. */
  readonly peerPrincipal: string | undefined;
  /** This proxy's identity on the connection, when TLS was terminated with one. */
  readonly localPrincipal: string | undefined;
  /** The socket peer's address, without port. */
  readonly remoteAddress: string;
  /** `address:port` strings for access logs and spans. */
  readonly remoteAddressAndPort: string;
  readonly localAddressAndPort: string;
  /** TLS was terminated here: the scheme the client used is https. */
  readonly tls: boolean;
  /** The transport server serving it (draining closes exactly that one). */
  server: HttpServer | undefined = undefined;

  constructor(conn: DownstreamConnection, localPrincipal: string | undefined) {
    this.downstream = conn;
    this.direction = conn.direction;
    this.peerPrincipal = conn.tls?.peerIdentity;
    this.localPrincipal = conn.tls?.localIdentity ?? localPrincipal;
    this.remoteAddress = conn.source.address;
    this.remoteAddressAndPort = joinHostPort(conn.source.address, conn.source.port);
    this.localAddressAndPort = joinHostPort(conn.destination.address, conn.destination.port);
    this.tls = conn.tls !== undefined;
  }

  /** A verified mesh peer: its x-envoy-* headers are trusted as Envoy trusts internal requests. */
  get meshPeer(): boolean {
    return this.peerPrincipal !== undefined;
  }
}

export function joinHostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
