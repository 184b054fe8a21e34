// Streams a log file to an HTTP response, from the end of the file or its start, following it like `tail -f`.

import { closeSync, existsSync, openSync, readSync, statSync, watch } from 'node:fs';
import type { Writable } from 'node:stream';

export interface FollowOptions {
  path: string;
  out: Writable;
  follow: boolean;
  /** Only the last N lines of what is there now. */
  tailLines?: number;
  /** Polling interval as a fallback for filesystems where fs.watch misses appends. */
  pollMs?: number;
  signal: AbortSignal;
}

function lastLinesOffset(path: string, size: number, lines: number): number {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.alloc(Math.min(size, 1024 * 1024));
    readSync(fd, chunk, 0, chunk.length, size - chunk.length);
    let seen = 0;
    for (let i = chunk.length - 2; i >= 0; i--) {
      if (chunk[i] === 10 && ++seen === lines) return size - chunk.length + i + 1;
    }
    return size - chunk.length;
  } finally {
    closeSync(fd);
  }
}

/** Resolves when the copy is done (not following) or when the signal aborts. Rotation restarts at offset 0. */
export async function copyLog(o: FollowOptions): Promise<void> {
  let offset = 0;
  if (existsSync(o.path) && o.tailLines !== undefined)
    offset = lastLinesOffset(o.path, statSync(o.path).size, o.tailLines);
  const pump = () => {
    if (!existsSync(o.path)) return;
    const size = statSync(o.path).size;
    if (size < offset) offset = 0;
    if (size === offset) return;
    const fd = openSync(o.path, 'r');
    try {
      while (offset < size) {
        const buf = Buffer.alloc(Math.min(size - offset, 256 * 1024));
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        o.out.write(buf.subarray(0, n));
        offset += n;
      }
    } finally {
      closeSync(fd);
    }
  };
  pump();
  if (!o.follow || o.signal.aborted) return;
  await new Promise<void>((resolve) => {
    let watcher: ReturnType<typeof watch> | undefined;
    try {
      watcher = watch(o.path, () => pump());
    } catch {
      watcher = undefined;
    }
    const timer = setInterval(pump, o.pollMs ?? 500);
    o.signal.addEventListener(
      'abort',
      () => {
        clearInterval(timer);
        watcher?.close();
        resolve();
      },
      { once: true },
    );
  });
}
