// What a protocol session (SotW or delta) needs from the client, and what the client needs from a session.

import type { Node } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { WireResource } from './decode.js';
import type { ResourceKind } from './types.js';

export type ChildKind = 'endpoint' | 'route';

export interface IngestOptions {
  /** SotW listeners/clusters: names absent from the response are deleted. */
  complete: boolean;
  /** Delta removed_resources. */
  removed: readonly string[];
  /** SotW version_info or delta system_version_info. */
  version: string;
  nonce: string;
  /** SotW routes/endpoints: resources not asked for are ignored (xDS spec). */
  only?: ReadonlySet<string>;
}

/** The client, as sessions see it. */
export interface SessionHost {
  readonly node: Node;
  /** False once the client moved on to another stream: late responses of this one are ignored. */
  current(): boolean;
  ackedVersion(kind: ResourceKind): string;
  /** Versions of the resources held, for delta's initial_resource_versions. */
  heldVersions(kind: ResourceKind, only?: ReadonlySet<string>): Record<string, string>;
  /** Children the current config needs. */
  wanted(kind: ChildKind): ReadonlySet<string>;
  /** Decodes, validates and applies a response; returns the NACK message, or undefined when accepted. */
  ingest(kind: ResourceKind, resources: readonly WireResource[], opts: IngestOptions): string | undefined;
  /** A response was received (the stream is healthy). */
  received(): void;
  /** Re-evaluates EDS/RDS subscriptions after a change. */
  syncSubscriptions(): void;
}

export interface XdsSession {
  /** Sends the initial requests: CDS and LDS wildcards, and EDS/RDS for names already known. */
  open(): void;
  updateSubscription(kind: ChildKind, names: ReadonlySet<string>): void;
  /** Cancels the stream. */
  cancel(): void;
}

export function sameSet(a: ReadonlySet<string> | undefined, b: ReadonlySet<string>): boolean {
  if (!a || a.size !== b.size) return false;
  for (const x of b) if (!a.has(x)) return false;
  return true;
}
