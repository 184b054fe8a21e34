// Verifying workload tokens. An interface, so that a Kubernetes TokenReview verifier can stand in later.

import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify } from 'jose';
import { type Clock, systemClock } from '../../shared/clock.js';
import { TrellisError } from '../../shared/errors.js';
import { workloadId } from '../../shared/spiffe.js';
import { ISTIO_CA_AUDIENCE, type KubernetesClaim } from './workload-token.js';

/** Who a valid token speaks for. */
export interface TokenIdentity {
  namespace: string;
  serviceAccount: string;
  podName?: string;
  podUid?: string;
  issuer: string;
  expiresAt: Date;
}

/**
 * Resolves a bearer token to the identity it proves, or throws a TrellisError with code
 * `TOKEN_EXPIRED` or `TOKEN_INVALID` whose message says exactly what is wrong.
 */
export interface TokenVerifier {
  verify(token: string): Promise<TokenIdentity>;
}

/** Bounded so that a huge header cannot make the CA parse megabytes per request. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const SUBJECT = /^system:serviceaccount:([^:]+):([^:]+)$/;

export interface JwtTokenVerifierOptions {
  /** The public keys tokens may be signed with (the CA's token-jwks.json). */
  jwks: JSONWebKeySet;
  issuer: string;
  audience?: string;
  clock?: Clock;
  /** Allowed clock skew for exp/nbf, in seconds. Default 0: the CA and the runtime share a clock. */
  clockToleranceSec?: number;
}

function invalid(message: string, cause?: unknown): TrellisError {
  return new TrellisError('TOKEN_INVALID', message, undefined, { cause });
}

/** Verifies ES256 tokens signed by the CA's own token key (the local runtime's tokens). */
export class JwtTokenVerifier implements TokenVerifier {
  readonly #keys: ReturnType<typeof createLocalJWKSet>;
  readonly #issuer: string;
  readonly #audience: string;
  readonly #clock: Clock;
  readonly #tolerance: number;

  constructor(opts: JwtTokenVerifierOptions) {
    this.#keys = createLocalJWKSet(opts.jwks);
    this.#issuer = opts.issuer;
    this.#audience = opts.audience ?? ISTIO_CA_AUDIENCE;
    this.#clock = opts.clock ?? systemClock;
    this.#tolerance = opts.clockToleranceSec ?? 0;
  }

  async verify(token: string): Promise<TokenIdentity> {
    if (token.length === 0) throw invalid('token is empty');
    if (token.length > MAX_TOKEN_LENGTH)
      throw invalid(`token is ${token.length} bytes; the limit is ${MAX_TOKEN_LENGTH}`);
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(token, this.#keys, {
        algorithms: ['ES256'],
        issuer: this.#issuer,
        audience: this.#audience,
        currentDate: new Date(this.#clock.now()),
        clockTolerance: this.#tolerance,
        requiredClaims: ['exp', 'sub', 'iss', 'aud'],
      }));
    } catch (e) {
      throw this.#explain(e);
    }
    const match = SUBJECT.exec(payload.sub ?? '');
    if (!match) {
      throw invalid(
        `token subject "${payload.sub}" is not of the form system:serviceaccount:<namespace>:<name>`,
      );
    }
    const [, namespace, serviceAccount] = match as unknown as [string, string, string];
    const kube = payload['kubernetes.io'] as Partial<KubernetesClaim> | undefined;
    if (kube && (kube.namespace !== namespace || kube.serviceaccount?.name !== serviceAccount)) {
      throw invalid(
        `token claim kubernetes.io (namespace "${kube.namespace}", service account "${kube.serviceaccount?.name}") disagrees with its subject "${payload.sub}"`,
      );
    }
    try {
      workloadId({ trustDomain: 'x', namespace, serviceAccount });
    } catch (e) {
      throw invalid(`token subject "${payload.sub}" cannot name a workload: ${(e as Error).message}`);
    }
    return {
      namespace,
      serviceAccount,
      ...(kube?.pod?.name ? { podName: kube.pod.name } : {}),
      ...(kube?.pod?.uid ? { podUid: kube.pod.uid } : {}),
      issuer: payload.iss!,
      expiresAt: new Date(payload.exp! * 1000),
    };
  }

  #explain(e: unknown): TrellisError {
    if (e instanceof errors.JWTExpired) {
      const exp = typeof e.payload.exp === 'number' ? new Date(e.payload.exp * 1000).toISOString() : '?';
      return new TrellisError('TOKEN_EXPIRED', `token expired at ${exp}`, undefined, { cause: e });
    }
    if (e instanceof errors.JWTClaimValidationFailed) {
      const got = e.payload[e.claim];
      return invalid(
        `token claim "${e.claim}" ${e.reason === 'missing' ? 'is missing' : `is ${JSON.stringify(got)}`}; expected ${this.#expected(e.claim)}`,
        e,
      );
    }
    if (e instanceof errors.JWKSNoMatchingKey) {
      return invalid('token is not signed by any key the CA trusts (unknown key id)', e);
    }
    if (e instanceof errors.JWSSignatureVerificationFailed) {
      return invalid('token signature does not verify against the CA token key', e);
    }
    if (e instanceof errors.JOSEAlgNotAllowed)
      return invalid(`token algorithm is not allowed: ${e.message}`, e);
    if (e instanceof errors.JOSEError) return invalid(`token is malformed: ${e.message}`, e);
    return invalid(`token cannot be verified: ${(e as Error).message}`, e);
  }

  #expected(claim: string): string {
    if (claim === 'iss') return `"${this.#issuer}"`;
    if (claim === 'aud') return `an audience "${this.#audience}"`;
    if (claim === 'nbf') return 'a time not after now';
    return 'a valid value';
  }
}
