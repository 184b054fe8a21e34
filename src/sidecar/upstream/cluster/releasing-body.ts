// A response body that tells the cluster when the exchange is over, so request slots last as long as the response.

import type { Body, BodySink } from '../../http/body.js';
import type { HeaderList } from '../../http/headers.js';

/**
 * Passes everything through and calls `settled` once, when the body ends, breaks or is cancelled. The
 * cluster's `max_requests` slot, a host's active-request count (least request) and `upstream_rq_active`
 * are released there rather than when the head arrives, as Envoy releases them when the stream completes.
 */
export class ReleasingBody implements Body {
  readonly #inner: Body;
  readonly #settled: () => void;

  constructor(inner: Body, settled: () => void) {
    this.#inner = inner;
    this.#settled = settled;
  }

  get size(): number | undefined {
    return this.#inner.size;
  }

  get replayable(): boolean {
    return this.#inner.replayable;
  }

  read(sink: BodySink): void {
    const settled = this.#settled;
    this.#inner.read({
      onData: (chunk) => sink.onData(chunk),
      onEnd: (trailers: HeaderList | undefined) => {
        settled();
        sink.onEnd(trailers);
      },
      onError: (err) => {
        settled();
        sink.onError(err);
      },
    });
  }

  pause(): void {
    this.#inner.pause();
  }

  resume(): void {
    this.#inner.resume();
  }

  cancel(reason?: Error): void {
    this.#settled();
    this.#inner.cancel(reason);
  }

  replay(): Body | undefined {
    return this.#inner.replay();
  }
}
