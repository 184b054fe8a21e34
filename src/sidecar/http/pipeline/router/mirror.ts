// Request mirroring: a fire-and-forget copy to a shadow cluster that can never slow or fail the real request.

import type { Clock } from '../../../../shared/clock.js';
import { errorMessage } from '../../../../shared/errors.js';
import type { Logger } from '../../../../shared/log.js';
import type { ClusterManager } from '../../../runtime/contracts.js';
import { responseOutcome } from '../../../upstream/outlier/outcome.js';
import { type Body, EMPTY_BODY, PushBody } from '../../body.js';
import { Cancellation } from '../../cancel.js';
import type { ProxyRequest } from '../../message.js';
import { timeoutReason } from './deadline.js';
import { shadowAuthority } from './rewrite.js';

export interface MirrorOptions {
  clusters: ClusterManager;
  clusterName: string;
  /** The upstream request as the real attempt sends it (headers after route edits, rewritten path). */
  request: ProxyRequest;
  /** A replayable body (or EMPTY_BODY): the shadow reads its own replay of it. */
  body: Body;
  /** The route timeout (0 = none): a shadow never outlives it. */
  timeoutMs: number;
  /** At most this many body bytes are copied; a longer body cuts the shadow off. */
  limitBytes: number;
  clock: Clock;
  logger: Logger;
  originalDestination?: { address: string; port: number };
}

/**
 * Reads the shadow's replay without ever applying backpressure (it always answers "more"), buffering for the
 * shadow's own pace up to `limitBytes`; beyond that the shadow body fails and the shadow request is reset.
 */
function decoupled(reader: Body, limitBytes: number): Body {
  const out = new PushBody({ size: reader.size, highWaterMark: Number.POSITIVE_INFINITY });
  let bytes = 0;
  reader.read({
    onData(chunk) {
      bytes += chunk.length;
      if (bytes > limitBytes) {
        reader.cancel();
        out.fail(new Error(`mirrored body exceeds ${limitBytes} bytes`));
        return false;
      }
      out.push(chunk);
      return true;
    },
    onEnd: (trailers) => out.end(trailers),
    onError: (err) => out.fail(err),
  });
  return out;
}

/** Sends the shadow copy; every outcome is swallowed (logged at debug). */
export function mirror(opts: MirrorOptions): void {
  const cluster = opts.clusters.get(opts.clusterName);
  if (cluster === undefined) {
    opts.logger.debug('mirror cluster not found; not mirroring', { cluster: opts.clusterName });
    return;
  }
  let body: Body = EMPTY_BODY;
  if (opts.body !== EMPTY_BODY && opts.body.size !== 0) {
    const reader = opts.body.replay();
    if (reader === undefined) return;
    body = decoupled(reader, opts.limitBytes);
  }
  const req = opts.request;
  const shadow: ProxyRequest = {
    method: req.method,
    scheme: req.scheme,
    authority: shadowAuthority(req.authority),
    path: req.path,
    version: req.version,
    headers: req.headers.clone(),
    body,
    absoluteForm: false,
    upgrade: undefined,
  };
  const signal = new Cancellation();
  const timer =
    opts.timeoutMs > 0
      ? opts.clock.setTimeout(() => signal.abort(timeoutReason('mirror timeout')), opts.timeoutMs)
      : undefined;
  const done = () => {
    if (timer !== undefined) opts.clock.clearTimeout(timer);
  };
  cluster
    .request(shadow, {
      signal,
      ...(opts.originalDestination && { originalDestination: opts.originalDestination }),
    })
    .then(
      (attempt) => {
        attempt.done(responseOutcome(attempt.response.status));
        attempt.response.tunnel?.destroy();
        // Read the body out so the pooled connection can be reused; the bytes are discarded.
        attempt.response.body.read({ onData: () => true, onEnd: done, onError: done });
      },
      (e: unknown) => {
        done();
        opts.logger.debug('mirrored request failed', { cluster: opts.clusterName, error: errorMessage(e) });
      },
    );
}
