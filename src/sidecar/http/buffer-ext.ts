// Types for Buffer's latin1 fast paths: Node defines them on every Buffer but @types/node does not declare them.

declare global {
  interface Buffer {
    /** Bytes [start, end) as a one-byte string, without the argument checks of toString('latin1'). */
    latin1Slice(start: number, end: number): string;
  }
}

export {};
