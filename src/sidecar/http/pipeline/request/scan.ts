// One pass over a request's headers collecting what the connection manager decides on, so each step does not rescan.

import type { HeaderMap } from '../../../../telemetry/record.js';
import type { HeaderList } from '../../headers.js';
import { PEER_METADATA_HEADER, PEER_METADATA_ID_HEADER } from './sanitize.js';

/** What the request steps need to know about the headers as they arrived. Reused per connection manager. */
export class HeaderScan {
  contentType: string | undefined = undefined;
  /** Number of x-forwarded-for entries. */
  xff = 0;
  requestId: string | undefined = undefined;
  forwardedProto = false;
  envoyInternal = false;
  clientCert = false;
  peerMetadata: string | undefined = undefined;
  peerMetadataId: string | undefined = undefined;
  /** Some x-envoy-* or x-trellis-* header is present: the sanitizer has work to do. */
  control = false;
  /** Trace context headers (traceparent, tracestate, b3, x-b3-*), first values; undefined when none. */
  trace: Record<string, string> | undefined = undefined;

  /** Reads `headers` once. The fields describe the list as it was; later edits are the caller's to track. */
  read(headers: HeaderList): this {
    this.contentType = undefined;
    this.xff = 0;
    this.requestId = undefined;
    this.forwardedProto = false;
    this.envoyInternal = false;
    this.clientCert = false;
    this.peerMetadata = undefined;
    this.peerMetadataId = undefined;
    this.control = false;
    this.trace = undefined;
    const n = headers.size;
    for (let i = 0; i < n; i++) {
      const name = headers.nameAt(i);
      const c = name.charCodeAt(0);
      if (c === 120 /* x */) {
        if (name.startsWith('x-envoy-') || name.startsWith('x-trellis-')) {
          this.control = true;
          if (name === 'x-envoy-internal') this.envoyInternal = true;
          else if (name === PEER_METADATA_HEADER) this.peerMetadata ??= headers.valueAt(i);
          else if (name === PEER_METADATA_ID_HEADER) this.peerMetadataId ??= headers.valueAt(i);
        } else if (name === 'x-forwarded-for') this.xff++;
        else if (name === 'x-request-id') this.requestId ??= headers.valueAt(i);
        else if (name === 'x-forwarded-proto') this.forwardedProto = true;
        else if (name === 'x-forwarded-client-cert') this.clientCert = true;
        else if (name.startsWith('x-b3-')) this.#trace(name, headers.valueAt(i));
      } else if (c === 99 /* c */) {
        if (name === 'content-type') this.contentType ??= headers.valueAt(i);
      } else if (c === 116 /* t */) {
        if (name === 'traceparent' || name === 'tracestate') this.#trace(name, headers.valueAt(i));
      } else if (c === 98 /* b */ && name === 'b3') this.#trace(name, headers.valueAt(i));
    }
    return this;
  }

  #trace(name: string, value: string): void {
    if (this.trace === undefined) this.trace = {};
    this.trace[name] ??= value;
  }

  /** The trace headers as the tracer reads them (an empty map when there are none). */
  traceHeaders(): HeaderMap {
    return this.trace ?? NO_HEADERS;
  }
}

const NO_HEADERS: HeaderMap = Object.freeze({});
