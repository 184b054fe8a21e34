// Workload tokens: ES256 JWTs shaped like Kubernetes projected service-account tokens, audience istio-ca.

import { randomUUID } from 'node:crypto';
import { type CryptoKey, SignJWT } from 'jose';
import { type Clock, systemClock } from '../../shared/clock.js';
import { TrellisError } from '../../shared/errors.js';
import { workloadId } from '../../shared/spiffe.js';

/** The audience istio-agent requests for the token it presents to the CA. */
export const ISTIO_CA_AUDIENCE = 'istio-ca';
export const DEFAULT_TOKEN_ISSUER = 'https://trellis.local/ca';
const DEFAULT_TOKEN_TTL_MS = 3_600_000;

/** The `kubernetes.io` claim as Kubernetes writes it in projected tokens. */
export interface KubernetesClaim {
  namespace: string;
  pod?: { name: string; uid: string };
  serviceaccount: { name: string; uid?: string };
}

export interface IssueTokenOptions {
  namespace: string;
  serviceAccount: string;
  podName: string;
  podUid: string;
  serviceAccountUid?: string;
  /** Default one hour. */
  ttlMs?: number;
  /** Default `["istio-ca"]`. */
  audiences?: string[];
}

export function serviceAccountSubject(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

/** Signs workload tokens with the CA's token key. */
export class WorkloadTokenIssuer {
  readonly #key: CryptoKey;
  readonly #kid: string;
  readonly #issuer: string;
  readonly #clock: Clock;

  constructor(opts: { key: CryptoKey; kid: string; issuer?: string; clock?: Clock }) {
    this.#key = opts.key;
    this.#kid = opts.kid;
    this.#issuer = opts.issuer ?? DEFAULT_TOKEN_ISSUER;
    this.#clock = opts.clock ?? systemClock;
  }

  get issuer(): string {
    return this.#issuer;
  }

  /** A token bound to one pod of one service account. */
  async issue(opts: IssueTokenOptions): Promise<string> {
    // The names end up in a SPIFFE ID; refuse early what could never become one.
    try {
      workloadId({ trustDomain: 'x', namespace: opts.namespace, serviceAccount: opts.serviceAccount });
    } catch (e) {
      throw new TrellisError('TOKEN_ISSUE_INVALID', (e as Error).message);
    }
    const now = Math.floor(this.#clock.now() / 1000);
    const ttl = Math.max(1, Math.round((opts.ttlMs ?? DEFAULT_TOKEN_TTL_MS) / 1000));
    const kube: KubernetesClaim = {
      namespace: opts.namespace,
      pod: { name: opts.podName, uid: opts.podUid },
      serviceaccount: {
        name: opts.serviceAccount,
        ...(opts.serviceAccountUid ? { uid: opts.serviceAccountUid } : {}),
      },
    };
    return new SignJWT({ 'kubernetes.io': kube })
      .setProtectedHeader({ alg: 'ES256', kid: this.#kid, typ: 'JWT' })
      .setIssuer(this.#issuer)
      .setSubject(serviceAccountSubject(opts.namespace, opts.serviceAccount))
      .setAudience(opts.audiences ?? [ISTIO_CA_AUDIENCE])
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ttl)
      .setJti(randomUUID())
      .sign(this.#key);
  }
}
