// Incremental, strict HTTP/1.1 parser: fed socket chunks in any split, emits heads, body slices and trailers.

import type { HeaderList } from '../headers.js';
import { HEX_VALUE, QDTEXT, TCHAR } from '../tokens.js';
import { HttpParseError, malformed, tooLarge } from './errors.js';
import {
  DEFAULT_HEAD_LIMITS,
  type HeadLimits,
  type ParsedRequestHead,
  type ParsedResponseHead,
  parseRequestHead,
  parseResponseHead,
  parseTrailers,
} from './head.js';

const CR = 13;
const LF = 10;

export interface H1Limits extends HeadLimits {
  /** Bytes in one chunk-size line, extensions included (a long extension is a slow-drip vector). */
  maxChunkLineBytes: number;
}

export const DEFAULT_H1_LIMITS: H1Limits = Object.freeze({ ...DEFAULT_HEAD_LIMITS, maxChunkLineBytes: 4096 });

/** What the parser reports. Body slices are views of the socket's buffers: copy them to keep them. */
export interface H1ParserEvents {
  /** Request mode: a complete, valid request head. */
  onRequestHead?(head: ParsedRequestHead): void;
  /** Response mode: a final (non-1xx, or 101) response head. */
  onResponseHead?(head: ParsedResponseHead): void;
  /** Response mode: an interim 1xx response other than 101 (100 Continue, 103 Early Hints). */
  onInformational?(head: ParsedResponseHead): void;
  onBody(chunk: Buffer): void;
  onMessageEnd(trailers: HeaderList | undefined): void;
}

enum S {
  Head,
  Length,
  ChunkSize,
  ChunkExt,
  ChunkSizeLf,
  ChunkData,
  ChunkDataCr,
  ChunkDataLf,
  Trailers,
  Eof,
  Upgraded,
  Failed,
}

enum Ext {
  NameStart,
  Name,
  ValueStart,
  Token,
  Quoted,
  QuotedEscape,
  AfterQuoted,
}

const MAX_LEADING_EMPTY_LINES = 4;

/**
 * One parser per connection. Request mode pauses itself after every complete request, so a server handles
 * pipelined requests strictly in order: it calls `resume()` once the response is written. `execute` never
 * throws for bad input: it returns false and leaves the reason in `error`.
 */
export class H1Parser {
  readonly kind: 'request' | 'response';
  #events: H1ParserEvents;
  #limits: H1Limits;
  #state: S = S.Head;
  #error: HttpParseError | undefined = undefined;
  #paused = false;
  #pending: Buffer[] = [];
  #executing = false;
  // block (head or trailers) scanning
  #blockParts: Buffer[] = [];
  #blockBytes = 0;
  #lineBytes = 0;
  #prevCR = false;
  #emptyLinesSkipped = 0;
  #leadingCR = false;
  // bodies
  #remaining = 0;
  #chunkDigits = 0;
  #ext: Ext = Ext.NameStart;
  /** Response mode: set before each request is sent; a response to HEAD has no body whatever it declares. */
  expectNoBody = false;

  constructor(kind: 'request' | 'response', events: H1ParserEvents, limits: Partial<H1Limits> = {}) {
    this.kind = kind;
    this.#events = events;
    this.#limits = { ...DEFAULT_H1_LIMITS, ...limits };
  }

  get error(): HttpParseError | undefined {
    return this.#error;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** True between messages with no byte of the next one received yet. */
  get idle(): boolean {
    return this.#state === S.Head && this.#blockBytes === 0 && !this.#leadingCR && this.#pending.length === 0;
  }

  /** True once a 101 response (response mode) or an accepted upgrade (`takeRemainder`) ended HTTP parsing. */
  get upgraded(): boolean {
    return this.#state === S.Upgraded;
  }

  /** True while a close-delimited response body is being read. */
  get readingUntilEof(): boolean {
    return this.#state === S.Eof;
  }

  /** Feeds one chunk. Returns false once the input is invalid (see `error`). */
  execute(chunk: Buffer): boolean {
    if (this.#state === S.Failed) return false;
    this.#pending.push(chunk);
    if (this.#executing || this.#paused) return true;
    return this.#drain();
  }

  /** Stops emitting events; input keeps being buffered until `resume()`. */
  pause(): void {
    this.#paused = true;
  }

  /** Continues with buffered input. Returns false if it turned out invalid. */
  resume(): boolean {
    if (this.#state === S.Failed) return false;
    this.#paused = false;
    if (this.#executing) return true;
    return this.#drain();
  }

  /** Bytes received but not parsed yet (pipelined requests waiting for their turn). */
  get bufferedBytes(): number {
    let n = 0;
    for (const c of this.#pending) n += c.length;
    return n;
  }

  #drain(): boolean {
    this.#executing = true;
    try {
      const pending = this.#pending;
      while (pending.length > 0 && !this.#paused && this.#state !== S.Upgraded && this.#state !== S.Failed) {
        const chunk = pending.shift()!;
        const offset = this.#run(chunk, 0);
        if (offset < chunk.length) pending.unshift(offset === 0 ? chunk : chunk.subarray(offset));
      }
    } catch (e) {
      if (!(e instanceof HttpParseError)) throw e;
      this.#fail(e);
    } finally {
      this.#executing = false;
    }
    return this.#state !== S.Failed;
  }

  /**
   * The connection hit EOF. Returns true when that ends a message cleanly (a close-delimited response) or
   * falls between messages; false when a message was cut short.
   */
  finish(): boolean {
    if (this.#state === S.Eof) {
      this.#state = S.Head;
      this.#events.onMessageEnd(undefined);
      return true;
    }
    return this.#state === S.Head && this.#blockBytes === 0 && this.#pending.length === 0;
  }

  /**
   * Ends HTTP parsing after an accepted upgrade or CONNECT: returns the bytes received after the request
   * (the first tunnel bytes), if any.
   */
  takeRemainder(): Buffer | undefined {
    this.#state = S.Upgraded;
    const rest = this.#pending;
    this.#pending = [];
    if (rest.length === 0) return undefined;
    return rest.length === 1 ? rest[0] : Buffer.concat(rest);
  }

  #fail(err: HttpParseError): void {
    this.#state = S.Failed;
    this.#error = err;
    this.#pending = [];
    this.#blockParts = [];
  }

  #run(chunk: Buffer, offset: number): number {
    const len = chunk.length;
    while (offset < len) {
      if (this.#paused) return offset;
      switch (this.#state) {
        case S.Head:
          offset = this.#head(chunk, offset);
          break;
        case S.Length: {
          const n = Math.min(this.#remaining, len - offset);
          this.#remaining -= n;
          const piece = chunk.subarray(offset, offset + n);
          offset += n;
          if (this.#remaining === 0) this.#state = S.Head;
          this.#events.onBody(piece);
          if (this.#remaining === 0) this.#messageEnd(undefined);
          break;
        }
        case S.ChunkSize:
        case S.ChunkExt:
        case S.ChunkSizeLf:
          offset = this.#chunkLine(chunk, offset);
          break;
        case S.ChunkData: {
          const n = Math.min(this.#remaining, len - offset);
          this.#remaining -= n;
          const piece = chunk.subarray(offset, offset + n);
          offset += n;
          if (this.#remaining === 0) this.#state = S.ChunkDataCr;
          this.#events.onBody(piece);
          break;
        }
        case S.ChunkDataCr:
          if (chunk[offset] !== CR) throw malformed('invalid chunked body: chunk data not followed by CRLF');
          offset++;
          this.#state = S.ChunkDataLf;
          break;
        case S.ChunkDataLf:
          if (chunk[offset] !== LF) throw malformed('invalid chunked body: chunk data not followed by CRLF');
          offset++;
          this.#startChunkLine();
          break;
        case S.Trailers:
          offset = this.#trailers(chunk, offset);
          break;
        case S.Eof: {
          const piece = offset === 0 ? chunk : chunk.subarray(offset);
          offset = len;
          this.#events.onBody(piece);
          break;
        }
        case S.Upgraded:
        case S.Failed:
          return offset;
      }
    }
    return offset;
  }

  /**
   * Finds the end of a head or trailer block: the first empty line. Every LF must follow a CR (bare LF is a
   * desync vector). Returns the index just past the block, or -1 when more bytes are needed.
   */
  #scanBlock(chunk: Buffer, offset: number, limit: number, what: string): number {
    let pos = offset;
    for (;;) {
      const lf = chunk.indexOf(LF, pos);
      if (lf === -1) {
        const n = chunk.length - pos;
        if (n > 0) this.#prevCR = chunk[chunk.length - 1] === CR;
        this.#lineBytes += n;
        this.#blockBytes += n;
        if (this.#blockBytes > limit) throw tooLarge(`${what} larger than ${limit} bytes`);
        return -1;
      }
      const crBefore = lf > offset ? chunk[lf - 1] === CR : this.#prevCR;
      if (!crBefore) throw malformed(`invalid ${what}: bare LF line ending`);
      const lineLen = this.#lineBytes + (lf - pos);
      this.#blockBytes += lf + 1 - pos;
      if (this.#blockBytes > limit) throw tooLarge(`${what} larger than ${limit} bytes`);
      this.#lineBytes = 0;
      this.#prevCR = false;
      pos = lf + 1;
      if (lineLen === 1) return pos;
    }
  }

  #takeBlock(chunk: Buffer, offset: number, end: number): [Buffer, number, number] {
    if (this.#blockParts.length === 0) return [chunk, offset, end];
    this.#blockParts.push(chunk.subarray(offset, end));
    const whole = Buffer.concat(this.#blockParts);
    this.#blockParts = [];
    return [whole, 0, whole.length];
  }

  #resetBlock(): void {
    this.#blockBytes = 0;
    this.#lineBytes = 0;
    this.#prevCR = false;
  }

  #head(chunk: Buffer, offset: number): number {
    if (this.#blockBytes === 0 && this.kind === 'request') {
      // RFC 9112 §2.2: ignore empty lines before a request line (old clients send CRLF after a POST body).
      if (this.#leadingCR) {
        if (chunk[offset] !== LF) throw malformed('invalid request line: CR without LF before the request');
        this.#leadingCR = false;
        offset++;
      }
      while (chunk[offset] === CR && this.#emptyLinesSkipped < MAX_LEADING_EMPTY_LINES) {
        if (offset + 1 === chunk.length) {
          this.#leadingCR = true;
          this.#emptyLinesSkipped++;
          return chunk.length;
        }
        if (chunk[offset + 1] !== LF) break;
        offset += 2;
        this.#emptyLinesSkipped++;
      }
      if (offset >= chunk.length) return offset;
    }
    const limit = this.#limits.maxHeadBytes;
    const end = this.#scanBlock(
      chunk,
      offset,
      limit,
      this.kind === 'request' ? 'request head' : 'response head',
    );
    if (end === -1) {
      this.#blockParts.push(offset === 0 ? chunk : chunk.subarray(offset));
      return chunk.length;
    }
    const [buf, start, stop] = this.#takeBlock(chunk, offset, end);
    this.#resetBlock();
    this.#emptyLinesSkipped = 0;
    if (this.kind === 'request') {
      this.#requestHead(buf, start, stop);
      return end;
    }
    return this.#responseHead(buf, start, stop, chunk, end);
  }

  #requestHead(buf: Buffer, start: number, end: number): void {
    const head = parseRequestHead(buf, start, end, this.#limits);
    if (head.chunked) {
      this.#startChunkLine();
    } else if (head.contentLength > 0) {
      this.#state = S.Length;
      this.#remaining = head.contentLength;
    }
    this.#events.onRequestHead!(head);
    if (this.#state === S.Head) this.#messageEnd(undefined);
  }

  /** Returns where parsing continues in `chunk` (its end after a 101: the rest belongs to the tunnel). */
  #responseHead(buf: Buffer, start: number, end: number, chunk: Buffer, next: number): number {
    const head = parseResponseHead(buf, start, end, this.#limits);
    if (head.status < 200 && head.status !== 101) {
      this.#events.onInformational?.(head);
      return next;
    }
    if (head.status === 101) {
      // The tunnel's first bytes must be in place before the event: its handler takes them at once.
      this.#state = S.Upgraded;
      if (next < chunk.length) this.#pending.unshift(chunk.subarray(next));
      this.#events.onResponseHead!(head);
      return chunk.length;
    }
    const noBody = this.expectNoBody || head.status === 204 || head.status === 304;
    if (noBody) {
      // framing headers of a bodiless response describe nothing on the wire
    } else if (head.chunked) {
      this.#startChunkLine();
    } else if (head.contentLength > 0) {
      this.#state = S.Length;
      this.#remaining = head.contentLength;
    } else if (head.contentLength === -1) {
      this.#state = S.Eof;
      head.keepAlive = false;
    }
    this.#events.onResponseHead!(head);
    if (this.#state === S.Head) this.#messageEnd(undefined);
    return next;
  }

  #messageEnd(trailers: HeaderList | undefined): void {
    this.#state = S.Head;
    // One exchange at a time: the server resumes after writing the response (or takes the remainder).
    if (this.kind === 'request') this.#paused = true;
    this.#events.onMessageEnd(trailers);
  }

  #startChunkLine(): void {
    this.#state = S.ChunkSize;
    this.#remaining = 0;
    this.#chunkDigits = 0;
    this.#lineBytes = 0;
  }

  #chunkLine(chunk: Buffer, offset: number): number {
    const len = chunk.length;
    const maxLine = this.#limits.maxChunkLineBytes;
    while (offset < len) {
      const c = chunk[offset]!;
      offset++;
      if (++this.#lineBytes > maxLine)
        throw malformed(`invalid chunked body: chunk-size line over ${maxLine} bytes`);
      if (this.#state === S.ChunkSize) {
        const v = HEX_VALUE[c]!;
        if (v !== 255) {
          if (++this.#chunkDigits > 16)
            throw malformed('invalid chunked body: chunk size has more than 16 hex digits');
          this.#remaining = this.#remaining * 16 + v;
          if (this.#remaining > Number.MAX_SAFE_INTEGER)
            throw malformed('invalid chunked body: chunk size too large');
          continue;
        }
        if (this.#chunkDigits === 0) throw malformed('invalid chunked body: missing chunk size');
        if (c === 0x3b) {
          this.#state = S.ChunkExt;
          this.#ext = Ext.NameStart;
        } else if (c === CR) {
          this.#state = S.ChunkSizeLf;
        } else {
          throw malformed(`invalid chunked body: byte 0x${c.toString(16).padStart(2, '0')} in chunk size`);
        }
      } else if (this.#state === S.ChunkExt) {
        this.#extByte(c);
      } else {
        if (c !== LF) throw malformed('invalid chunked body: chunk-size line not ended by CRLF');
        if (this.#remaining === 0) {
          this.#state = S.Trailers;
          this.#resetBlock();
        } else {
          this.#state = S.ChunkData;
        }
        return offset;
      }
    }
    return offset;
  }

  /** chunk-ext = *( ";" token [ "=" ( token / quoted-string ) ] ), without whitespace: extensions are ignored, but only well-formed ones pass. */
  #extByte(c: number): void {
    switch (this.#ext) {
      case Ext.NameStart:
        if (TCHAR[c] !== 1) throw malformed('invalid chunked body: bad chunk extension');
        this.#ext = Ext.Name;
        return;
      case Ext.Name:
      case Ext.Token:
        if (TCHAR[c] === 1) return;
        if (c === 0x3b) this.#ext = Ext.NameStart;
        else if (c === 0x3d && this.#ext === Ext.Name) this.#ext = Ext.ValueStart;
        else if (c === CR) this.#state = S.ChunkSizeLf;
        else throw malformed('invalid chunked body: bad chunk extension');
        return;
      case Ext.ValueStart:
        if (c === 0x22) this.#ext = Ext.Quoted;
        else if (TCHAR[c] === 1) this.#ext = Ext.Token;
        else throw malformed('invalid chunked body: bad chunk extension value');
        return;
      case Ext.Quoted:
        if (c === 0x22) this.#ext = Ext.AfterQuoted;
        else if (c === 0x5c) this.#ext = Ext.QuotedEscape;
        else if (QDTEXT[c] !== 1)
          throw malformed('invalid chunked body: bad byte in a quoted chunk extension');
        return;
      case Ext.QuotedEscape:
        if (QDTEXT[c] !== 1 && c !== 0x22 && c !== 0x5c)
          throw malformed('invalid chunked body: bad escape in chunk extension');
        this.#ext = Ext.Quoted;
        return;
      case Ext.AfterQuoted:
        if (c === 0x3b) this.#ext = Ext.NameStart;
        else if (c === CR) this.#state = S.ChunkSizeLf;
        else throw malformed('invalid chunked body: bad chunk extension');
        return;
    }
  }

  #trailers(chunk: Buffer, offset: number): number {
    const end = this.#scanBlock(chunk, offset, this.#limits.maxHeadBytes, 'trailer block');
    if (end === -1) {
      this.#blockParts.push(offset === 0 ? chunk : chunk.subarray(offset));
      return chunk.length;
    }
    const [buf, start, stop] = this.#takeBlock(chunk, offset, end);
    this.#resetBlock();
    const trailers = parseTrailers(buf, start, stop, this.#limits);
    this.#messageEnd(trailers);
    return end;
  }
}
