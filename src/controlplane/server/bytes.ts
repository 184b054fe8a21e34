// Byte helpers for building responses out of cached chunks without extra copies.

/** Concatenates chunks into one Buffer (a single copy). */
export function concatBytes(chunks: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const c of chunks) length += c.byteLength;
  const out = Buffer.allocUnsafe(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
