// Why an upstream attempt produced no response, classified once for retries, flags and the local reply.

import { errorMessage } from '../../../../shared/errors.js';
import type { UpstreamFailure } from '../../../runtime/contracts.js';
import type { Host } from '../../../upstream/lb/host.js';
import { isUpstreamError } from '../../../upstream/pool/errors.js';
import type { FailureKind } from './retry-policy.js';

export interface ClassifiedFailure {
  kind: FailureKind;
  /** The Envoy response flag (UF, UC, UR, UT, UO, UH, LR, DC, UPE...). */
  flag: string;
  /** A reason naming the cluster and the cause, for `x-trellis-reason`. */
  reason: string;
  /** False when a retry could be seen by the upstream twice (response already started). */
  retriable: boolean;
  host: Host | undefined;
  /** The local reply's status: 504 for timeouts, 502 for protocol errors, 503 otherwise. */
  status: number;
  /** Envoy's plain-text body for the reply. */
  body: string;
}

/** The core's UpstreamFailure (contracts.ts), recognised by shape. */
export function isUpstreamFailure(e: unknown): e is UpstreamFailure {
  const f = e as Partial<UpstreamFailure> | undefined;
  return typeof f?.flag === 'string' && typeof f.reason === 'string' && typeof f.retriable === 'boolean';
}

function kindOfFlag(flag: string, message: string): FailureKind {
  switch (flag) {
    case 'UF':
      return 'connect-failure';
    case 'UR':
      return /refused.stream/i.test(message) ? 'refused-stream' : 'reset';
    case 'UC':
    case 'LR':
    case 'UPE':
      return 'reset';
    case 'UT':
      return 'timeout';
    case 'UO':
      return 'overflow';
    default:
      return 'other';
  }
}

function replyFor(flag: string): { status: number; body: string } {
  switch (flag) {
    case 'UT':
      return { status: 504, body: 'upstream request timeout' };
    case 'UPE':
      return { status: 502, body: 'upstream sent an invalid response' };
    case 'UH':
      return { status: 503, body: 'no healthy upstream' };
    case 'UO':
      return { status: 503, body: 'upstream overflow (circuit breaker open)' };
    case 'UF':
      return {
        status: 503,
        body: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
      };
    default:
      return { status: 503, body: 'upstream connect error or disconnect/reset before headers' };
  }
}

/** Classifies a rejection of `UpstreamCluster.request` (the core's failure, a pool's error, anything else). */
export function classifyFailure(e: unknown, cluster: string): ClassifiedFailure {
  if (isUpstreamFailure(e)) {
    const cause = (e as Error & { cause?: unknown }).cause;
    const message = `${e.reason} ${cause === undefined ? '' : errorMessage(cause)}`;
    return {
      kind: kindOfFlag(e.flag, message),
      flag: e.flag,
      reason: e.reason,
      retriable: e.retriable,
      host: e.host,
      ...replyFor(e.flag),
    };
  }
  if (isUpstreamError(e)) {
    return {
      kind: kindOfFlag(e.flag, e.message),
      flag: e.flag,
      reason: `cluster "${cluster}": ${e.message}`,
      retriable: !e.responseStarted,
      host: undefined,
      ...replyFor(e.flag),
    };
  }
  return {
    kind: 'other',
    flag: 'LR',
    reason: `cluster "${cluster}": ${errorMessage(e)}`,
    retriable: false,
    host: undefined,
    ...replyFor('LR'),
  };
}
