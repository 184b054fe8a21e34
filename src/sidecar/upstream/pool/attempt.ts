// One request's journey through a pool: its promise, its abort signal, and whether it was already retried.

import type { CancelSignal } from '../../http/cancel.js';
import type { ProxyRequest, ProxyResponse } from '../../http/message.js';

export class Attempt {
  req: ProxyRequest;
  readonly signal: CancelSignal | undefined;
  readonly promise: Promise<ProxyResponse>;
  /** True once this request was re-sent after a stale pooled connection. */
  retried = false;
  settled = false;
  #resolve!: (res: ProxyResponse) => void;
  #reject!: (err: Error) => void;

  constructor(req: ProxyRequest, signal: CancelSignal | undefined) {
    this.req = req;
    this.signal = signal;
    this.promise = new Promise<ProxyResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  resolve(res: ProxyResponse): void {
    if (this.settled) return;
    this.settled = true;
    this.#resolve(res);
  }

  reject(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.#reject(err);
  }
}
