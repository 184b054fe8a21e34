// The UpstreamFailure the cluster manager raises: an Envoy flag plus a reason that names the cluster and the cause.

import { TrellisError } from '../../../shared/errors.js';
import type { UpstreamFailure } from '../../runtime/contracts.js';
import type { Host } from '../lb/host.js';
import { isUpstreamError, type UpstreamError } from '../pool/errors.js';

export class ClusterFailure extends TrellisError implements UpstreamFailure {
  readonly flag: string;
  readonly reason: string;
  readonly retriable: boolean;
  readonly host?: Host;

  constructor(init: { flag: string; reason: string; retriable: boolean; host?: Host; cause?: unknown }) {
    super(`UPSTREAM_${init.flag}`, init.reason, undefined, { cause: init.cause });
    this.name = 'ClusterFailure';
    this.flag = init.flag;
    this.reason = init.reason;
    this.retriable = init.retriable;
    if (init.host) this.host = init.host;
  }
}

/** What a pool's error becomes once the cluster knows which host it was talking to. */
export function failureFromPoolError(e: unknown, cluster: string, host: Host): ClusterFailure {
  if (isUpstreamError(e)) return fromUpstreamError(e, cluster, host);
  const message = e instanceof Error ? e.message : String(e);
  return new ClusterFailure({
    flag: 'LR',
    reason: `request to ${host.key} in cluster "${cluster}" failed: ${message}`,
    retriable: false,
    host,
    cause: e,
  });
}

function fromUpstreamError(e: UpstreamError, cluster: string, host: Host): ClusterFailure {
  // A retry is invisible to the client only when nothing of the response reached it yet; connect
  // failures and resets before the head are what Envoy's retry_on conditions were made for.
  const retriable = !e.responseStarted && (e.flag === 'UF' || e.flag === 'UC' || e.flag === 'UR');
  return new ClusterFailure({
    flag: e.flag,
    reason: `${e.message} (cluster "${cluster}")`,
    retriable,
    host,
    cause: e,
  });
}
