// The sidecar's identity agent: gets the workload certificate from the CA, keeps it fresh, tells subscribers.

import { Backoff } from '../../shared/backoff.js';
import { type Clock, systemClock, type Timer } from '../../shared/clock.js';
import { errorMessage, TrellisError } from '../../shared/errors.js';
import { type Logger, silentLogger } from '../../shared/log.js';
import { type WorkloadIdentity, workloadId } from '../../shared/spiffe.js';
import type { CaClient } from './ca-client.js';
import { createWorkloadCsr } from './csr.js';
import { DEFAULT_RENEWAL, type RenewalPolicy, renewalDelayMs } from './renewal.js';
import { secretsFromCaResponse, type WorkloadSecrets } from './secrets.js';

/** Where TLS code reads the current secrets from, and hears about new ones. */
export interface SecretsSource {
  current(): WorkloadSecrets | undefined;
  /** The listener runs after every change; returns an unsubscribe function. */
  subscribe(listener: (secrets: WorkloadSecrets) => void): () => void;
}

export interface IdentityAgentOptions {
  identity: WorkloadIdentity;
  ca: CaClient;
  /** Roots to verify the CA's serving certificate before the first response brings the bundle. */
  caRootsPem: string;
  /** The workload token (re-read on every request: tokens are rotated too). Optional on renewals. */
  token?: () => string | undefined | Promise<string | undefined>;
  /** Requested certificate lifetime; 0/undefined lets the CA choose (24 h by default). */
  requestedTtlMs?: number;
  renewal?: RenewalPolicy;
  /** Retry delays after a failed request (full jitter); default 500 ms doubling up to 30 s. */
  retry?: { baseMs: number; maxMs: number };
  clock?: Clock;
  /** Uniform in [0, 1); injected for tests. */
  random?: () => number;
  logger?: Logger;
}

export interface AgentStatus {
  spiffeId: string;
  /** Requests that failed since the last success. */
  consecutiveFailures: number;
  lastError: string | undefined;
  lastRenewalAt: Date | undefined;
  nextAttemptAt: Date | undefined;
}

/**
 * Keeps `default` and `ROOTCA` in memory. Renews at half-life with jitter; while the CA is
 * unreachable it keeps serving the current certificate and retries with backoff.
 */
export class IdentityAgent implements SecretsSource {
  readonly spiffeId: string;
  readonly #opts: IdentityAgentOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #listeners = new Set<(s: WorkloadSecrets) => void>();
  #secrets: WorkloadSecrets | undefined;
  #timer: Timer | undefined;
  #nextAttemptAt: number | undefined;
  #inFlight: Promise<WorkloadSecrets> | undefined;
  #failures = 0;
  #lastError: string | undefined;
  #lastRenewalAt: number | undefined;
  #stopped = false;
  #firstWaiters: { resolve: (s: WorkloadSecrets) => void; reject: (e: unknown) => void }[] = [];

  constructor(opts: IdentityAgentOptions) {
    this.#opts = opts;
    this.spiffeId = workloadId(opts.identity);
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#log = opts.logger ?? silentLogger;
    this.#backoff = new Backoff({
      baseMs: opts.retry?.baseMs ?? 500,
      maxMs: opts.retry?.maxMs ?? 30_000,
      random: this.#random,
    });
  }

  /**
   * Starts the agent; resolves with the first secrets. Until the CA answers it keeps retrying with
   * backoff (a sidecar cannot serve mTLS without them); rejects only if stop() is called first.
   */
  start(): Promise<WorkloadSecrets> {
    if (this.#secrets) return Promise.resolve(this.#secrets);
    const first = new Promise<WorkloadSecrets>((resolve, reject) =>
      this.#firstWaiters.push({ resolve, reject }),
    );
    if (!this.#timer && !this.#inFlight) this.#attempt();
    return first;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const waiters = this.#firstWaiters;
    this.#firstWaiters = [];
    for (const w of waiters)
      w.reject(new TrellisError('IDENTITY_AGENT_STOPPED', `identity agent for ${this.spiffeId} stopped`));
  }

  current(): WorkloadSecrets | undefined {
    return this.#secrets;
  }

  subscribe(listener: (secrets: WorkloadSecrets) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Renews now (e.g. after a root rotation step) instead of waiting for the half-life. */
  renewNow(): Promise<WorkloadSecrets> {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#request();
  }

  status(): AgentStatus {
    return {
      spiffeId: this.spiffeId,
      consecutiveFailures: this.#failures,
      lastError: this.#lastError,
      lastRenewalAt: this.#lastRenewalAt === undefined ? undefined : new Date(this.#lastRenewalAt),
      nextAttemptAt: this.#nextAttemptAt === undefined ? undefined : new Date(this.#nextAttemptAt),
    };
  }

  #attempt(): void {
    this.#timer = undefined;
    this.#request().catch(() => {
      // #request has logged and scheduled the retry.
    });
  }

  #request(): Promise<WorkloadSecrets> {
    if (this.#inFlight) return this.#inFlight;
    const request = this.#requestOnce();
    this.#inFlight = request;
    return request;
  }

  async #requestOnce(): Promise<WorkloadSecrets> {
    try {
      const secrets = await this.#fetch();
      // Cleared before anyone hears of the result: a renewal asked for from a listener is a new request.
      this.#inFlight = undefined;
      if (this.#stopped) return secrets;
      this.#failures = 0;
      this.#lastError = undefined;
      this.#backoff.reset();
      this.#install(secrets);
      return secrets;
    } catch (e) {
      this.#inFlight = undefined;
      this.#failures++;
      this.#lastError = errorMessage(e);
      if (!this.#stopped) {
        const delay = this.#backoff.next();
        const serving = this.#secrets;
        this.#log.warn('certificate request failed; retrying', {
          spiffeId: this.spiffeId,
          error: this.#lastError,
          retryInMs: delay,
          ...(serving
            ? {
                servingSerial: serving.default.leaf.serial,
                servingUntil: serving.default.leaf.notAfter.toISOString(),
              }
            : {}),
        });
        this.#schedule(delay);
      }
      throw e;
    }
  }

  async #fetch(): Promise<WorkloadSecrets> {
    const { privateKeyPem, csrPem } = await createWorkloadCsr(this.spiffeId);
    const current = this.#secrets;
    const token = this.#opts.token ? await this.#opts.token() : undefined;
    const certChain = await this.#opts.ca.createCertificate({
      csrPem,
      validitySeconds: (this.#opts.requestedTtlMs ?? 0) / 1000,
      ...(token ? { token } : {}),
      // The configured roots plus the latest bundle: the CA's serving cert may already chain to a new root.
      caRootsPem: current ? `${current.rootCa.pem}${this.#opts.caRootsPem}` : this.#opts.caRootsPem,
      ...(current
        ? {
            clientCertificate: {
              certChainPem: current.default.certChainPem,
              privateKeyPem: current.default.privateKeyPem,
            },
          }
        : {}),
    });
    return secretsFromCaResponse({
      certChain,
      privateKeyPem,
      spiffeId: this.spiffeId,
      version: (current?.version ?? 0) + 1,
    });
  }

  #install(secrets: WorkloadSecrets): void {
    this.#secrets = secrets;
    this.#lastRenewalAt = this.#clock.now();
    const leaf = secrets.default.leaf;
    this.#log.info('installed workload certificate', {
      spiffeId: this.spiffeId,
      serial: leaf.serial,
      notAfter: leaf.notAfter.toISOString(),
      roots: secrets.rootCa.roots.length,
    });
    this.#schedule(
      renewalDelayMs({
        notBefore: leaf.notBefore,
        notAfter: leaf.notAfter,
        now: this.#clock.now(),
        policy: this.#opts.renewal ?? DEFAULT_RENEWAL,
        random: this.#random,
      }),
    );
    const waiters = this.#firstWaiters;
    this.#firstWaiters = [];
    for (const w of waiters) w.resolve(secrets);
    for (const listener of this.#listeners) {
      try {
        listener(secrets);
      } catch (e) {
        this.#log.error('secrets subscriber threw', { error: errorMessage(e) });
      }
    }
  }

  #schedule(delayMs: number): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#nextAttemptAt = this.#clock.now() + delayMs;
    this.#timer = this.#clock.setTimeout(() => this.#attempt(), delayMs);
    this.#timer.unref?.();
  }
}
