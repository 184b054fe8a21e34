// Per-stream, per-type protocol state: the subscription, the client's holdings, and what was sent and ACKed.

import { ClientView, type Scope } from './client-view.js';

export interface SentRecord {
  readonly version: string;
  readonly nonce: string;
  /** Wall-clock ms. */
  readonly at: number;
}

export interface NackRecord {
  /** The version the client rejected. */
  readonly version: string;
  readonly nonce: string;
  readonly message: string;
  readonly at: number;
}

export class TypeState implements Scope {
  readonly typeUrl: string;
  /** The client has requested this type on this stream. */
  subscribed = false;
  wildcard = false;
  /** The client never named a resource: an empty list keeps meaning "*" (the spec's legacy wildcard). */
  legacyWildcard = true;
  readonly names = new Set<string>();
  readonly view = new ClientView();
  /** A response is owed even if nothing changed (a new subscription, or a newly requested name). */
  mustRespond = false;
  /** Names newly requested: in delta, those that do not exist are answered in removed_resources. */
  readonly newlyRequested = new Set<string>();
  /** Delta: nonces sent and not yet ACKed or NACKed, with the version each carried. */
  readonly outstanding = new Map<string, string>();

  sent: SentRecord | undefined;
  acked: SentRecord | undefined;
  nack: NackRecord | undefined;

  constructor(typeUrl: string) {
    this.typeUrl = typeUrl;
  }

  /** The client ACKed the latest response (istioctl's SYNCED: sent nonce == acked nonce). */
  get synced(): boolean {
    return this.sent !== undefined && this.acked?.nonce === this.sent.nonce;
  }

  /** A snapshot of the scope before a change (the live one is mutated). */
  scopeCopy(): Scope {
    return { wildcard: this.wildcard, names: new Set(this.names) };
  }

  subscribe(name: string, heldVersion: string | null = null): void {
    if (this.names.has(name)) return;
    this.names.add(name);
    // Newly requested resources are (re)sent even if the client was sent them before (xDS spec).
    this.view.enter(name, heldVersion);
    this.newlyRequested.add(name);
    this.mustRespond = true;
  }

  unsubscribe(name: string): void {
    if (!this.names.delete(name)) return;
    this.newlyRequested.delete(name);
    if (!this.wildcard) this.view.leave(name);
  }

  setWildcard(on: boolean): void {
    if (on === this.wildcard) return;
    if (on) {
      this.view.widenToWildcard(this.scopeCopy());
      this.mustRespond = true;
    }
    this.wildcard = on;
  }
}
