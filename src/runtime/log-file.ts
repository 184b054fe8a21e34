// A log file per pod and container, rotated by size (`app.log`, `app.log.1`, ... like kubelet's rotation).

import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

export interface RotatingLogOptions {
  path: string;
  /** Rotate once the file reaches this size. Default 10 MiB. */
  maxBytes?: number;
  /** Rotated files kept besides the current one. Default 2. */
  keep?: number;
}

export class RotatingLog {
  readonly path: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  #fd: number;
  #size: number;

  constructor(o: RotatingLogOptions) {
    this.path = o.path;
    this.#maxBytes = o.maxBytes ?? 10 * 1024 * 1024;
    this.#keep = o.keep ?? 2;
    mkdirSync(dirname(o.path), { recursive: true });
    this.#fd = openSync(o.path, 'a');
    this.#size = fstatSync(this.#fd).size;
  }

  write(chunk: string | Buffer): void {
    if (this.#fd < 0) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.#size > 0 && this.#size + buf.length > this.#maxBytes) this.#rotate();
    writeSync(this.#fd, buf);
    this.#size += buf.length;
  }

  #rotate(): void {
    closeSync(this.#fd);
    rmSync(`${this.path}.${this.#keep}`, { force: true });
    for (let i = this.#keep - 1; i >= 1; i--) {
      if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    }
    if (this.#keep > 0) renameSync(this.path, `${this.path}.1`);
    else rmSync(this.path, { force: true });
    this.#fd = openSync(this.path, 'a');
    this.#size = 0;
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}
