// The per-exchange context a server hands its handler: connection facts and a lazily built abort signal.

import type { ConnectionInfo, ExchangeContext } from './message.js';

/** One exchange's context. Servers call `abort` when the downstream goes away mid-exchange. */
export class Exchange implements ExchangeContext {
  readonly connection: ConnectionInfo;
  readonly receivedAt: number;
  #controller: AbortController | undefined = undefined;
  #reason: Error | undefined = undefined;

  constructor(connection: ConnectionInfo, receivedAt: number) {
    this.connection = connection;
    this.receivedAt = receivedAt;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#reason !== undefined;
  }

  abort(reason: Error): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}
