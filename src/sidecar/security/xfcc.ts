// x-forwarded-client-cert: what the sidecar forwards about the verified client certificate, per Envoy's modes.

import type { ForwardClientCert } from '../config/model.js';
import type { PeerCertificate } from './context.js';

export const XFCC_HEADER = 'x-forwarded-client-cert';

export interface XfccOptions {
  /** HCM `forward_client_cert_details`. */
  mode: ForwardClientCert;
  /** HCM `set_current_client_cert_details` (Envoy always adds `By` and `Hash`). */
  details: { subject: boolean; uri: boolean; dns: boolean };
  /** URI SANs of the sidecar's own certificate (`By`). */
  localUriSans: readonly string[];
  /**
   * Envoy's ALWAYS_FORWARD_ONLY forwards a client's header even over plaintext. Off by default here: a header
   * that no verified peer vouches for is dropped in every mode. Set it only behind a trusted front proxy that
   * terminates TLS and writes the header itself.
   */
  alwaysForwardFromPlaintext?: boolean;
}

/** What to do with the request's XFCC header. */
export type XfccAction = { action: 'remove' } | { action: 'keep' } | { action: 'set'; value: string };

export interface XfccInput {
  /** The verified client certificate; undefined on plaintext. */
  peer: PeerCertificate | undefined;
  /** Every XFCC value the client sent. */
  incoming: readonly string[] | undefined;
}

const REMOVE: XfccAction = Object.freeze({ action: 'remove' });
const KEEP: XfccAction = Object.freeze({ action: 'keep' });

/**
 * Values are written bare, as Envoy does, unless they hold a character that would end or forge an element
 * (`,` `;` `=` `"` or white space): then they are quoted, so a crafted SAN cannot inject `;URI=...`.
 */
function value(v: string): string {
  return /[,;="\s\\]/.test(v) ? `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"` : v;
}

/** The element describing this hop: `By=...;Hash=...;Subject="...";URI=...;DNS=...` (Envoy's order). */
export function xfccElement(opts: XfccOptions, peer: PeerCertificate): string {
  const parts: string[] = [];
  for (const uri of opts.localUriSans) parts.push(`By=${value(uri)}`);
  if (peer.sha256) parts.push(`Hash=${peer.sha256}`);
  if (opts.details.subject) parts.push(`Subject="${peer.subject.replace(/["\\]/g, (c) => `\\${c}`)}"`);
  if (opts.details.uri) {
    if (peer.uriSans.length === 0) parts.push('URI=');
    for (const uri of peer.uriSans) parts.push(`URI=${value(uri)}`);
  }
  if (opts.details.dns) for (const dns of peer.dnsSans) parts.push(`DNS=${value(dns)}`);
  return parts.join(';');
}

/**
 * Envoy's `mutateXfccRequestHeader`: SANITIZE drops the header; FORWARD_ONLY keeps the client's; APPEND_FORWARD
 * appends this hop's element; SANITIZE_SET replaces it with this hop's element. Without a verified client
 * certificate the header is always dropped (ALWAYS_FORWARD_ONLY included, unless `alwaysForwardFromPlaintext`).
 */
export function xfccAction(opts: XfccOptions, input: XfccInput): XfccAction {
  const hasIncoming = input.incoming !== undefined && input.incoming.length > 0;
  if (opts.mode === 'ALWAYS_FORWARD_ONLY' && (input.peer || opts.alwaysForwardFromPlaintext)) {
    return hasIncoming ? KEEP : REMOVE;
  }
  if (opts.mode === 'SANITIZE' || !input.peer || opts.mode === 'ALWAYS_FORWARD_ONLY') return REMOVE;
  if (opts.mode === 'FORWARD_ONLY') return hasIncoming ? KEEP : REMOVE;
  const element = xfccElement(opts, input.peer);
  if (opts.mode === 'APPEND_FORWARD' && hasIncoming) {
    return { action: 'set', value: `${input.incoming!.join(',')},${element}` };
  }
  return { action: 'set', value: element };
}
