// Startup progress for people: one line rewritten in place on a terminal, plain lines in logs and pipes.

import type { MeshProgress } from './mesh.js';

export class ProgressPrinter {
  readonly #out: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  readonly #tty: boolean;
  #inPlace = false;

  constructor(out: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean } = process.stderr) {
    this.#out = out;
    this.#tty = Boolean(out.isTTY) && process.env.TERM !== 'dumb';
  }

  print(p: MeshProgress): void {
    const line = p.text;
    if (this.#tty && p.stage === 'pods') {
      this.#out.write(`\r\x1b[K${line}`);
      this.#inPlace = true;
      return;
    }
    if (this.#inPlace) this.#out.write('\n');
    this.#inPlace = false;
    this.#out.write(`${line}\n`);
  }

  /** Ends an in-place line so what follows starts on its own line. */
  done(): void {
    if (this.#inPlace) this.#out.write('\n');
    this.#inPlace = false;
  }
}
