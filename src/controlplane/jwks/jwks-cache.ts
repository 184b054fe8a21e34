// The control plane's JWKS cache: fetches each RequestAuthentication jwksUri, refreshes it, keeps the last good copy.

import { Backoff } from '../../shared/backoff.js';
import { type Clock, systemClock, type Timer } from '../../shared/clock.js';
import { errorMessage, TrellisError } from '../../shared/errors.js';
import { type Logger, silentLogger } from '../../shared/log.js';

export interface JwksCacheOptions {
  /** Injected for tests; the global fetch by default. */
  fetch?: typeof globalThis.fetch;
  clock?: Clock;
  logger?: Logger;
  /** One fetch may take this long (default 5 s). */
  timeoutMs?: number;
  /** Refetch a good document this often (Istio's PILOT_JWT_PUB_KEY_REFRESH_INTERVAL, 20 min). */
  refreshIntervalMs?: number;
  /** Retry a failed fetch after a jittered backoff starting here (default 1 s, capped by the refresh interval). */
  retryBaseMs?: number;
  /** Larger documents are refused (default 1 MiB). */
  maxBytes?: number;
  /** Called when a URI's document changes (first fetch included): the caller schedules a push. */
  onChange?: (uri: string) => void;
  /** Jitter source for retries. */
  random?: () => number;
}

/** What is known about one jwksUri. `never-fetched` means translation must fail closed for it. */
export interface JwksStatus {
  state: 'never-fetched' | 'fresh' | 'stale';
  /** Epoch ms of the last successful fetch. */
  fetchedAt?: number;
  /** The last failure, kept until a fetch succeeds. */
  lastError?: string;
}

interface Entry {
  document?: string;
  fetchedAt?: number;
  lastError?: string;
  timer?: Timer;
  inflight?: Promise<void>;
  backoff: Backoff;
}

/**
 * Translation does no I/O: it reads `snapshot()` (MeshInputs.jwks). A URI that was never fetched is absent,
 * so translation inlines a JWKS no token verifies against (FAIL_CLOSED_JWKS) and requests with tokens get 401.
 * A failed refresh keeps the last good document: a flaky issuer does not log everybody out, and a failure
 * never turns into a default key set.
 */
export class JwksCache {
  readonly #fetch: typeof globalThis.fetch;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #refreshMs: number;
  readonly #retryBaseMs: number;
  readonly #maxBytes: number;
  readonly #onChange: ((uri: string) => void) | undefined;
  readonly #random: (() => number) | undefined;
  readonly #entries = new Map<string, Entry>();
  #closed = false;

  constructor(opts: JwksCacheOptions = {}) {
    this.#fetch = opts.fetch ?? globalThis.fetch;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger ?? silentLogger;
    this.#timeoutMs = opts.timeoutMs ?? 5_000;
    this.#refreshMs = opts.refreshIntervalMs ?? 20 * 60_000;
    this.#retryBaseMs = opts.retryBaseMs ?? 1_000;
    this.#maxBytes = opts.maxBytes ?? 1 << 20;
    this.#onChange = opts.onChange;
    this.#random = opts.random;
  }

  /**
   * The set of jwksUris the current config uses: new ones are fetched at once, ones no longer used are
   * dropped (with their timers).
   */
  track(uris: Iterable<string>): void {
    const wanted = new Set(uris);
    for (const [uri, entry] of this.#entries) {
      if (wanted.has(uri)) continue;
      if (entry.timer) this.#clock.clearTimeout(entry.timer);
      this.#entries.delete(uri);
    }
    for (const uri of wanted) {
      if (this.#entries.has(uri)) continue;
      const entry: Entry = {
        backoff: new Backoff({
          baseMs: this.#retryBaseMs,
          maxMs: Math.max(this.#retryBaseMs, this.#refreshMs),
          random: this.#random,
        }),
      };
      this.#entries.set(uri, entry);
      this.#refresh(uri, entry);
    }
  }

  /** The last good document of every tracked URI that has one: MeshInputs.jwks. */
  snapshot(): ReadonlyMap<string, string> {
    const out = new Map<string, string>();
    for (const [uri, entry] of this.#entries) if (entry.document !== undefined) out.set(uri, entry.document);
    return out;
  }

  get(uri: string): string | undefined {
    return this.#entries.get(uri)?.document;
  }

  status(uri: string): JwksStatus {
    const entry = this.#entries.get(uri);
    if (!entry || entry.document === undefined) {
      return { state: 'never-fetched', ...(entry?.lastError ? { lastError: entry.lastError } : {}) };
    }
    return {
      state: entry.lastError ? 'stale' : 'fresh',
      fetchedAt: entry.fetchedAt,
      ...(entry.lastError ? { lastError: entry.lastError } : {}),
    };
  }

  /** Fetches a tracked URI now (or every tracked URI) and resolves when done. */
  async refreshNow(uri?: string): Promise<void> {
    const targets = uri === undefined ? [...this.#entries] : [[uri, this.#entries.get(uri)] as const];
    await Promise.all(
      targets.map(([u, e]) => {
        if (!e) throw new TrellisError('JWKS_UNTRACKED', `jwksUri "${u}" is not tracked`);
        return e.inflight ?? this.#refresh(u, e);
      }),
    );
  }

  /** Resolves when no fetch is in flight (for tests and orderly shutdown). */
  async settled(): Promise<void> {
    for (;;) {
      const pending = [...this.#entries.values()].map((e) => e.inflight).filter((p) => p !== undefined);
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  close(): void {
    this.#closed = true;
    for (const entry of this.#entries.values()) if (entry.timer) this.#clock.clearTimeout(entry.timer);
    this.#entries.clear();
  }

  #refresh(uri: string, entry: Entry): Promise<void> {
    if (entry.timer) {
      this.#clock.clearTimeout(entry.timer);
      entry.timer = undefined;
    }
    const run = this.#download(uri).then(
      (document) => {
        if (this.#entries.get(uri) !== entry) return;
        const changed = document !== entry.document;
        entry.document = document;
        entry.fetchedAt = this.#clock.now();
        entry.lastError = undefined;
        entry.backoff.reset();
        if (changed) this.#logger.info('fetched JWKS', { uri });
        this.#schedule(uri, entry, this.#refreshMs);
        if (changed) this.#onChange?.(uri);
      },
      (e) => {
        entry.lastError = errorMessage(e);
        this.#logger.warn(
          entry.document === undefined
            ? 'cannot fetch JWKS; tokens of this issuer are refused until it succeeds'
            : 'cannot refresh JWKS; keeping the last good copy',
          { uri, error: entry.lastError },
        );
        this.#schedule(uri, entry, Math.min(entry.backoff.next(), this.#refreshMs));
      },
    );
    entry.inflight = run.finally(() => {
      entry.inflight = undefined;
    });
    return entry.inflight;
  }

  #schedule(uri: string, entry: Entry, delayMs: number): void {
    if (this.#closed || this.#entries.get(uri) !== entry) return;
    const timer = this.#clock.setTimeout(() => {
      entry.timer = undefined;
      if (this.#entries.get(uri) === entry) void this.#refresh(uri, entry);
    }, delayMs);
    timer.unref?.();
    entry.timer = timer;
  }

  async #download(uri: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new TrellisError('JWKS_URI', `jwksUri "${uri}" is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new TrellisError('JWKS_URI', `jwksUri "${uri}" is not http or https`);
    }
    const res = await this.#fetch(url, {
      signal: AbortSignal.timeout(this.#timeoutMs),
      headers: { accept: 'application/json' },
      redirect: 'follow',
    }).catch((e: unknown) => {
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
      throw new TrellisError(
        'JWKS_FETCH',
        timedOut
          ? `no answer from ${uri} within ${this.#timeoutMs} ms`
          : `fetching ${uri}: ${errorMessage(e)}`,
      );
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new TrellisError('JWKS_FETCH', `${uri} answered ${res.status}`);
    }
    const text = await readLimited(res, this.#maxBytes, uri, this.#timeoutMs);
    validateJwks(text, uri);
    return text;
  }
}

async function readLimited(res: Response, maxBytes: number, uri: string, timeoutMs: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new TrellisError('JWKS_FETCH', `${uri}: document of ${declared} bytes exceeds ${maxBytes}`);
  }
  try {
    const buf = Buffer.from(await res.arrayBuffer());
    if (buf.length > maxBytes) {
      throw new TrellisError('JWKS_FETCH', `${uri}: document of ${buf.length} bytes exceeds ${maxBytes}`);
    }
    return buf.toString('utf8');
  } catch (e) {
    if (e instanceof TrellisError) throw e;
    throw new TrellisError('JWKS_FETCH', `reading ${uri} (timeout ${timeoutMs} ms): ${errorMessage(e)}`);
  }
}

/** A JWKS with at least one key object: anything else is a failed fetch, never a document to serve. */
export function validateJwks(text: string, uri: string): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new TrellisError('JWKS_INVALID', `${uri} did not return JSON: ${errorMessage(e)}`);
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new TrellisError('JWKS_INVALID', `${uri} returned no "keys" array with keys in it`);
  }
  if (
    !keys.every(
      (k) => k !== null && typeof k === 'object' && typeof (k as { kty?: unknown }).kty === 'string',
    )
  ) {
    throw new TrellisError('JWKS_INVALID', `${uri} returned a key without "kty"`);
  }
}

/** Every jwksUri (without an inline jwks) the RequestAuthentications name: what `track` should be given. */
export function jwksUrisOf(
  policies: readonly { spec: { jwtRules?: readonly { jwksUri?: string; jwks?: string }[] } }[],
): string[] {
  const out = new Set<string>();
  for (const p of policies) {
    for (const r of p.spec.jwtRules ?? []) if (r.jwksUri && !r.jwks) out.add(r.jwksUri);
  }
  return [...out];
}
