// The per-exchange context a server hands its handler: connection facts and a cheap cancellation signal.

import { Cancellation } from './cancel.js';
import type { ConnectionInfo, ExchangeContext } from './message.js';

/** One exchange's context. Servers call `abort` when the downstream goes away mid-exchange. */
export class Exchange implements ExchangeContext {
  readonly connection: ConnectionInfo;
  readonly receivedAt: number;
  readonly signal = new Cancellation();

  constructor(connection: ConnectionInfo, receivedAt: number) {
    this.connection = connection;
    this.receivedAt = receivedAt;
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  abort(reason: Error): void {
    this.signal.abort(reason);
  }
}
