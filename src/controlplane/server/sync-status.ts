// Per-proxy sync status for /debug/syncz and `trellis proxy-status`, computed as istioctl computes it.

import type { JsonObject } from '@bufbuild/protobuf';
import type { NackRecord, SentRecord, TypeState } from './type-state.js';

/** istioctl's words: SYNCED when the last sent nonce was ACKed. */
export type SyncState = 'SYNCED' | 'NOT SENT' | 'STALE' | 'STALE (Never Acknowledged)';

/** istioctl's xdsStatus(sent, acked), over nonces. */
export function syncState(sentNonce: string | undefined, ackedNonce: string | undefined): SyncState {
  if (!sentNonce) return 'NOT SENT';
  if (sentNonce === ackedNonce) return 'SYNCED';
  if (!ackedNonce) return 'STALE (Never Acknowledged)';
  return 'STALE';
}

export interface TypeSyncStatus {
  readonly typeUrl: string;
  readonly state: SyncState;
  /** `*` for a wildcard subscription, then any explicit names. */
  readonly subscribed: readonly string[];
  readonly sent: SentRecord | undefined;
  readonly acked: SentRecord | undefined;
  readonly lastNack: NackRecord | undefined;
  /** The group's current version of the type, to compare with `acked.version`. */
  readonly currentVersion: string | undefined;
}

export interface ProxySyncStatus {
  readonly proxyId: string;
  readonly streamId: string;
  readonly protocol: 'sotw' | 'delta';
  readonly group: string | undefined;
  readonly cluster: string;
  readonly metadata: JsonObject;
  readonly peerAddress: string;
  /** Wall-clock ms when the stream opened. */
  readonly connectedAt: number;
  readonly types: readonly TypeSyncStatus[];
}

export function typeSyncStatus(ts: TypeState, currentVersion: string | undefined): TypeSyncStatus {
  const names = [...ts.names].sort();
  return {
    typeUrl: ts.typeUrl,
    state: syncState(ts.sent?.nonce, ts.acked?.nonce),
    subscribed: ts.wildcard ? ['*', ...names] : names,
    sent: ts.sent,
    acked: ts.acked,
    lastNack: ts.nack,
    currentVersion,
  };
}
