// A response body wrapper that reports the trailers (a streamed gRPC response's status) as they pass.

import type { Body, BodySink } from '../body.js';
import type { HeaderList } from '../headers.js';

/** A response body that reports its trailers (gRPC status of a streamed response) on the way through. */
export class TrailerTap implements Body {
  readonly #inner: Body;
  readonly #onEnd: (trailers: HeaderList | undefined) => void;

  constructor(inner: Body, onEnd: (trailers: HeaderList | undefined) => void) {
    this.#inner = inner;
    this.#onEnd = onEnd;
  }

  get size(): number | undefined {
    return this.#inner.size;
  }

  get replayable(): boolean {
    return false;
  }

  read(sink: BodySink): void {
    this.#inner.read({
      onData: (chunk) => sink.onData(chunk),
      onEnd: (trailers) => {
        this.#onEnd(trailers);
        sink.onEnd(trailers);
      },
      onError: (err) => sink.onError(err),
    });
  }

  pause(): void {
    this.#inner.pause();
  }

  resume(): void {
    this.#inner.resume();
  }

  cancel(reason?: Error): void {
    this.#inner.cancel(reason);
  }

  replay(): Body | undefined {
    return undefined;
  }
}
