// Message bodies as push streams: chunks flow by callback with backpressure both ways, no promise per chunk.

import { TrellisError } from '../../shared/errors.js';
import type { HeaderList } from './headers.js';

/** The consumer of a body. Exactly one sink reads a body. */
export interface BodySink {
  /** One chunk. Return false to apply backpressure: nothing more arrives until the consumer calls `resume()`. */
  onData(chunk: Buffer): boolean;
  /** The body is complete. `trailers` are the chunked or HTTP/2 trailers, when the sender sent any. */
  onEnd(trailers: HeaderList | undefined): void;
  /** The body broke (the peer reset the stream or the connection failed). Nothing follows. */
  onError(err: Error): void;
}

/** What a body's producer (a socket reader, an HTTP/2 stream) must do when its consumer asks. */
export interface BodySource {
  /** Stop delivering: the consumer is behind. Called once per transition. */
  pause(): void;
  /** Deliver again. Called once per transition. */
  resume(): void;
  /** The consumer gave up: release the data source (reset the stream, or retire the connection). */
  cancel(reason: Error): void;
}

/** A request or response body as filters and codecs see it. */
export interface Body {
  /**
   * The exact length when it is known up front (Content-Length, a buffer, HTTP/2 content-length); undefined
   * when it is not (chunked, close-delimited, streamed). Codecs choose the outgoing framing from this, never
   * from a content-length header.
   */
  readonly size: number | undefined;
  /** True while `replay()` can still return a fresh reader. */
  readonly replayable: boolean;
  /**
   * Attaches the single consumer. Chunks that already arrived are delivered synchronously from inside this
   * call, so a caller that corks its socket first writes a small complete body in one syscall.
   */
  read(sink: BodySink): void;
  /** Stops delivery until `resume()` (the same as returning false from `onData`). */
  pause(): void;
  resume(): void;
  /**
   * The consumer will not read on: the producer is told to stop (an HTTP/2 stream is reset, an HTTP/1.1
   * connection is not reused). Does nothing once the body has ended.
   */
  cancel(reason?: Error): void;
  /**
   * A new reader over the same bytes from the start (a retry, or a mirror read in parallel), or undefined when
   * the body cannot be replayed: it was not made replayable, or it outgrew its replay limit.
   */
  replay(): Body | undefined;
}

const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

enum State {
  Open = 0,
  Ended = 1,
  Failed = 2,
  Cancelled = 3,
}

/** Options for a body fed by a producer. */
export interface PushBodyOptions {
  /** Known length in bytes, if any. */
  size?: number;
  /** The producer's controls; omitted for bodies that are fully pushed at once. */
  source?: BodySource;
  /** Bytes queued before a consumer reads (or while it is paused) before the source is paused. */
  highWaterMark?: number;
  /** How to produce a fresh reader; without it the body is read once. */
  replayer?: Replayer;
}

/** A body's way back to its own beginning (see `makeReplayable`). */
export interface Replayer {
  readonly replayable: boolean;
  replay(): Body | undefined;
}

/**
 * A body a producer pushes into: `push(chunk)` returns false when the producer should stop, and the body calls
 * `source.pause()` / `source.resume()` on each transition so the producer can simply pause its socket.
 */
export class PushBody implements Body {
  readonly size: number | undefined;
  #source: BodySource | undefined;
  #replayer: Replayer | undefined;
  #highWaterMark: number;
  #sink: BodySink | undefined = undefined;
  #queue: Buffer[] | undefined = undefined;
  #queuedBytes = 0;
  #state: State = State.Open;
  #trailers: HeaderList | undefined = undefined;
  #error: Error | undefined = undefined;
  #finalDelivered = false;
  #consumerPaused = false;
  #sourcePaused = false;
  #flushing = false;

  constructor(opts: PushBodyOptions = {}) {
    this.size = opts.size;
    this.#source = opts.source;
    this.#replayer = opts.replayer;
    this.#highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  }

  get replayable(): boolean {
    return this.#replayer?.replayable ?? false;
  }

  /** True once the consumer cancelled: a producer should stop pushing. */
  get cancelled(): boolean {
    return this.#state === State.Cancelled;
  }

  /** Sets the producer controls after construction (an HTTP/2 stream known only later). */
  setSource(source: BodySource): void {
    this.#source = source;
    if (this.#sourcePaused) source.pause();
  }

  // --- producer side ---

  /** Adds a chunk. Returns false when the producer should pause (it is also told through `source.pause()`). */
  push(chunk: Buffer): boolean {
    if (this.#state !== State.Open) return false;
    if (chunk.length === 0) return !this.#sourcePaused;
    const sink = this.#sink;
    if (sink !== undefined && !this.#consumerPaused && !this.#flushing && this.#queue === undefined) {
      if (sink.onData(chunk)) return true;
      this.#consumerPaused = true;
      this.#pauseSource();
      return false;
    }
    if (this.#queue === undefined) this.#queue = [chunk];
    else this.#queue.push(chunk);
    this.#queuedBytes += chunk.length;
    if (this.#consumerPaused || this.#queuedBytes >= this.#highWaterMark) {
      this.#pauseSource();
      return false;
    }
    return true;
  }

  /** Completes the body, with trailers if the sender sent any. */
  end(trailers?: HeaderList): void {
    if (this.#state !== State.Open) return;
    this.#state = State.Ended;
    this.#trailers = trailers;
    if (this.#sink !== undefined && !this.#flushing) this.#flush();
  }

  /** Breaks the body: queued chunks are dropped and the consumer's `onError` runs as soon as it is attached. */
  fail(err: Error): void {
    if (this.#state !== State.Open) return;
    this.#state = State.Failed;
    this.#error = err;
    this.#queue = undefined;
    this.#queuedBytes = 0;
    if (this.#sink !== undefined && !this.#flushing) this.#flush();
  }

  // --- consumer side ---

  read(sink: BodySink): void {
    if (this.#sink !== undefined) {
      throw new TrellisError(
        'HTTP_BODY_ALREADY_READ',
        'a body has exactly one reader; use replay() for another',
      );
    }
    this.#sink = sink;
    this.#flush();
  }

  pause(): void {
    if (this.#consumerPaused) return;
    this.#consumerPaused = true;
    if (this.#state === State.Open) this.#pauseSource();
  }

  resume(): void {
    if (!this.#consumerPaused) return;
    this.#consumerPaused = false;
    if (this.#sink !== undefined) this.#flush();
  }

  cancel(reason?: Error): void {
    if (this.#state !== State.Open) {
      // Queued chunks of an ended body are simply dropped; the producer is already done.
      if (this.#state === State.Ended && !this.#finalDelivered) {
        this.#queue = undefined;
        this.#queuedBytes = 0;
        this.#finalDelivered = true;
      }
      return;
    }
    this.#state = State.Cancelled;
    this.#queue = undefined;
    this.#queuedBytes = 0;
    this.#source?.cancel(reason ?? new TrellisError('HTTP_BODY_CANCELLED', 'the body reader cancelled'));
  }

  replay(): Body | undefined {
    return this.#replayer?.replay();
  }

  #flush(): void {
    if (this.#flushing) return;
    const sink = this.#sink!;
    this.#flushing = true;
    try {
      // A sink may push, pause, cancel or fail reentrantly; take the queue and loop until it stays empty.
      for (;;) {
        const queue = this.#queue;
        if (queue === undefined || this.#consumerPaused || this.#state >= State.Failed) break;
        this.#queue = undefined;
        let i = 0;
        while (i < queue.length && !this.#consumerPaused && this.#state < State.Failed) {
          const chunk = queue[i++]!;
          this.#queuedBytes -= chunk.length;
          if (!sink.onData(chunk)) this.#consumerPaused = true;
        }
        if (i < queue.length && this.#state < State.Failed) {
          const rest = queue.slice(i);
          // the sink may have pushed more while we delivered (TypeScript cannot see that reentrancy)
          const later = this.#queue as Buffer[] | undefined;
          if (later !== undefined) for (const c of later) rest.push(c);
          this.#queue = rest;
        }
      }
    } finally {
      this.#flushing = false;
    }
    if (this.#finalDelivered) return;
    if (this.#state === State.Failed) {
      this.#finalDelivered = true;
      sink.onError(this.#error!);
    } else if (this.#queue !== undefined) {
      if (this.#state === State.Open) this.#pauseSource();
    } else if (this.#state === State.Ended) {
      this.#finalDelivered = true;
      sink.onEnd(this.#trailers);
    } else if (this.#state === State.Open) {
      if (this.#consumerPaused) this.#pauseSource();
      else this.#resumeSource();
    }
  }

  #pauseSource(): void {
    if (this.#sourcePaused) return;
    this.#sourcePaused = true;
    this.#source?.pause();
  }

  #resumeSource(): void {
    if (!this.#sourcePaused) return;
    this.#sourcePaused = false;
    this.#source?.resume();
  }
}

class EmptyBody implements Body {
  readonly size = 0;
  readonly replayable = true;
  read(sink: BodySink): void {
    sink.onEnd(undefined);
  }
  pause(): void {}
  resume(): void {}
  cancel(): void {}
  replay(): Body {
    return this;
  }
}

/** The body of GET requests, 204/304 responses and HEAD responses: shared, stateless, always replayable. */
export const EMPTY_BODY: Body = Object.freeze(new EmptyBody());

/** True for a body that is known to carry no bytes. */
export function isEmptyBody(body: Body): boolean {
  return body === EMPTY_BODY || body.size === 0;
}

/** A complete in-memory body (local replies, tests); replayable without limit since it is already held. */
export function bufferBody(data: Buffer | string, trailers?: HeaderList): Body {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  if (bytes.length === 0 && trailers === undefined) return EMPTY_BODY;
  const replayer: Replayer = { replayable: true, replay: () => bufferBody(bytes, trailers) };
  const body = new PushBody({ size: bytes.length, replayer, highWaterMark: Number.POSITIVE_INFINITY });
  body.push(bytes);
  body.end(trailers);
  return body;
}

/**
 * Makes `body` re-readable: the first `limitBytes` are kept as they stream through, so `replay()` can start a
 * new reader from the beginning (a retry after the first attempt failed, or a mirror reading in parallel).
 * Once more than `limitBytes` have arrived the record is dropped and `replay()` returns undefined; readers
 * that exist keep streaming. The source is read at the pace of the slowest reader, so memory stays at most
 * `limitBytes` plus one high-water mark per reader.
 */
export function makeReplayable(body: Body, limitBytes: number): Body {
  if (body.replayable) return body;
  return new ReplayHub(body, limitBytes).newReader()!;
}

class ReplayHub implements BodySink {
  #source: Body;
  #limit: number;
  #record: Buffer[] | undefined = [];
  #recordedBytes = 0;
  #readers = new Set<PushBody>();
  #paused = new Set<PushBody>();
  #ended = false;
  #trailers: HeaderList | undefined = undefined;
  #error: Error | undefined = undefined;
  #started = false;

  constructor(source: Body, limitBytes: number) {
    this.#source = source;
    this.#limit = limitBytes;
  }

  get replayable(): boolean {
    return this.#record !== undefined;
  }

  newReader(): Body | undefined {
    if (this.#record === undefined) return undefined;
    const reader: PushBody = new PushBody({
      size: this.#source.size,
      replayer: this,
      source: {
        pause: () => this.#readerPaused(reader),
        resume: () => this.#readerResumed(reader),
        cancel: (reason) => this.#readerCancelled(reader, reason),
      },
    });
    this.#readers.add(reader);
    for (const chunk of this.#record) reader.push(chunk);
    if (this.#error !== undefined) reader.fail(this.#error);
    else if (this.#ended) reader.end(this.#trailers);
    if (!this.#started) {
      this.#started = true;
      this.#source.read(this);
    }
    return reader;
  }

  replay(): Body | undefined {
    return this.newReader();
  }

  onData(chunk: Buffer): boolean {
    if (this.#record !== undefined) {
      this.#recordedBytes += chunk.length;
      if (this.#recordedBytes > this.#limit) this.#record = undefined;
      else this.#record.push(chunk);
    }
    for (const reader of this.#readers) reader.push(chunk);
    if (this.#readers.size === 0 && this.#record === undefined) {
      this.#source.cancel(notReplayable(this.#limit));
      return false;
    }
    return this.#paused.size === 0;
  }

  onEnd(trailers: HeaderList | undefined): void {
    this.#ended = true;
    this.#trailers = trailers;
    for (const reader of this.#readers) reader.end(trailers);
  }

  onError(err: Error): void {
    this.#error = err;
    this.#record = undefined;
    for (const reader of this.#readers) reader.fail(err);
  }

  #readerPaused(reader: PushBody): void {
    this.#paused.add(reader);
    if (this.#paused.size === 1) this.#source.pause();
  }

  #readerResumed(reader: PushBody): void {
    if (this.#paused.delete(reader) && this.#paused.size === 0) this.#source.resume();
  }

  #readerCancelled(reader: PushBody, reason: Error): void {
    this.#readers.delete(reader);
    const wasPaused = this.#paused.delete(reader);
    if (this.#readers.size === 0 && this.#record === undefined) {
      this.#source.cancel(reason);
    } else if (wasPaused && this.#paused.size === 0) {
      this.#source.resume();
    }
  }
}

function notReplayable(limit: number): TrellisError {
  return new TrellisError(
    'HTTP_BODY_NOT_REPLAYABLE',
    `the body outgrew its replay buffer of ${limit} bytes and nobody is reading it`,
  );
}

/** Options for `readBody`. */
export interface ReadBodyOptions {
  /** Refuse bodies larger than this (default 16 MiB): collecting is for small bodies only. */
  limitBytes?: number;
}

/** Collects a whole body into memory (local replies, ext_authz with body, tests). */
export function readBody(
  body: Body,
  opts: ReadBodyOptions = {},
): Promise<{ data: Buffer; trailers: HeaderList | undefined }> {
  const limit = opts.limitBytes ?? 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    body.read({
      onData(chunk) {
        total += chunk.length;
        if (total > limit) {
          const err = new TrellisError(
            'HTTP_BODY_TOO_LARGE',
            `body exceeds the ${limit}-byte limit for buffering`,
          );
          body.cancel(err);
          reject(err);
          return false;
        }
        chunks.push(chunk);
        return true;
      },
      onEnd(trailers) {
        resolve({ data: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total), trailers });
      },
      onError: reject,
    });
  });
}
