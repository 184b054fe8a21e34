// Envoy's jwt_authn as Istio configures it: any valid token from any provider, or none at all, never a bad one.

import { type Clock, systemClock } from '../../../shared/clock.js';
import { type Logger, silentLogger } from '../../../shared/log.js';
import type { JwtConfig, JwtProviderConfig } from '../../config/model.js';
import type { MetadataStruct, RequestContext } from '../context.js';
import { emptyEdits, type HeaderEdits, type HeaderValue } from '../header-edits.js';
import { AUTHN_METADATA, authnMetadata, claimHeaderValue, JWT_AUTHN_METADATA } from './claims.js';
import { type ExtractedToken, TokenExtractor } from './extract.js';
import { JwksKeys } from './keys.js';
import { httpStatusFor, JWT_STATUS_TEXT, type JwtStatus } from './status.js';
import { audiencesAllowed, checkTime, type ParsedJwt, parseJwt } from './token.js';

export type JwtAuthnResult =
  | {
      action: 'continue';
      /** `<iss>/<sub>` of the first verified token; undefined for an anonymous request. */
      principal: string | undefined;
      /** Always apply: they remove client copies of the headers this filter owns, even without a token. */
      headers: HeaderEdits;
    }
  | {
      action: 'deny';
      status: 401 | 403;
      /** Envoy's text (`Jwt is expired`, `Jwt verification fails`, ...). */
      body: string;
      /** Which check refused it. */
      reason: JwtStatus;
      /** `www-authenticate: Bearer realm="<url>"` plus `, error="invalid_token"` unless the token was missing. */
      responseHeaders: HeaderValue[];
      /** Envoy's response code details: `jwt_authn_access_denied{Jwt_is_expired}`. */
      details: string;
    };

interface Provider {
  config: JwtProviderConfig;
  keys: JwksKeys;
}

export interface JwtAuthenticatorOptions {
  clock?: Clock;
  logger?: Logger;
  /** Names the filter in logs (`jwt_authn on listener "virtualInbound"`). */
  where?: string;
  /** Verified signatures remembered per config (Envoy's `jwt_cache_size`, default 100); 0 disables. */
  verifiedCacheSize?: number;
}

export interface JwtRequestInfo {
  /** `x-forwarded-proto` of the request, for the realm; default `http`. */
  scheme?: string;
}

/** The longest path Envoy copies into the realm. */
const MAX_REALM_PATH = 256;

/**
 * Compiled once per JwtConfig (keys imported once). `authenticate` extracts every token from every provider's
 * locations and requires each of them to verify: a request carrying one valid and one invalid token is refused,
 * so the application can never read the bad one. With no token at all the request continues anonymously when
 * `allowMissing` (Istio: authorization decides), otherwise 401 `Jwt is missing`.
 */
/** Envoy's `jwt_authn.*` counters. */
export interface JwtAuthnStats {
  allowed: number;
  denied: number;
  jwt_cache_hit: number;
  jwt_cache_miss: number;
}

export class JwtAuthenticator {
  readonly stats: JwtAuthnStats = { allowed: 0, denied: 0, jwt_cache_hit: 0, jwt_cache_miss: 0 };
  readonly #config: JwtConfig;
  readonly #providers: readonly Provider[];
  readonly #extractor: TokenExtractor;
  readonly #clock: Clock;
  /** Token → the provider whose key verified it. Time is checked on every use; only the signature is remembered. */
  readonly #verified = new Map<string, { jwt: ParsedJwt; provider: Provider }>();
  readonly #cacheSize: number;

  constructor(config: JwtConfig, opts: JwtAuthenticatorOptions = {}) {
    this.#config = config;
    this.#clock = opts.clock ?? systemClock;
    this.#cacheSize = opts.verifiedCacheSize ?? 100;
    const logger = opts.logger ?? silentLogger;
    this.#providers = config.providers.map((p) => {
      const { keys, problems } = JwksKeys.load(p.jwks);
      for (const problem of problems) {
        logger.warn(`JWT provider "${p.name}" (issuer "${p.issuer}"): ${problem}`, {
          where: opts.where,
          usableKeys: keys.size,
        });
      }
      return { config: p, keys };
    });
    this.#extractor = new TokenExtractor(config.providers);
  }

  async authenticate(ctx: RequestContext, info: JwtRequestInfo = {}): Promise<JwtAuthnResult> {
    const edits = emptyEdits();
    // Client copies of the payload and claim headers go first, whatever happens next.
    for (const name of this.#extractor.outputHeaders) {
      if (ctx.headers.values(name)) edits.remove.push(name);
    }
    const tokens = this.#extractor.extract(ctx);
    if (tokens.length === 0) {
      if (this.#config.allowMissing) {
        this.stats.allowed++;
        return { action: 'continue', principal: undefined, headers: edits };
      }
      return this.#deny('missing', ctx, info);
    }
    const verified: { jwt: ParsedJwt; provider: Provider; from: ExtractedToken }[] = [];
    for (const from of tokens) {
      const outcome = await this.#verify(from);
      if ('status' in outcome) return this.#deny(outcome.status, ctx, info);
      verified.push({ ...outcome, from });
    }
    const jwtAuthn: Record<string, MetadataStruct[string]> = {};
    for (const { jwt, provider, from } of verified) {
      const p = provider.config;
      if (!p.forward && from.location.kind === 'header' && !edits.remove.includes(from.location.name)) {
        edits.remove.push(from.location.name);
      }
      if (p.forwardPayloadHeader) {
        edits.set.push({ name: p.forwardPayloadHeader.toLowerCase(), value: jwt.payloadSegment });
      }
      for (const c of p.claimToHeaders) {
        const value = claimHeaderValue(jwt.payload, c.claimName);
        if (value !== undefined) edits.set.push({ name: c.headerName.toLowerCase(), value });
      }
      if (p.payloadInMetadata) jwtAuthn[p.payloadInMetadata] = jwt.payload as MetadataStruct;
    }
    const first = verified[0]!.jwt;
    ctx.metadata.set(AUTHN_METADATA, authnMetadata(first));
    if (Object.keys(jwtAuthn).length > 0) {
      ctx.metadata.set(JWT_AUTHN_METADATA, { ...(ctx.metadata.get(JWT_AUTHN_METADATA) ?? {}), ...jwtAuthn });
    }
    this.stats.allowed++;
    return { action: 'continue', principal: `${first.iss ?? ''}/${first.sub ?? ''}`, headers: edits };
  }

  /** jwt_verify_lib's order: format, issuer, time, audience, then the keys of each provider of that issuer. */
  async #verify(
    from: ExtractedToken,
  ): Promise<{ jwt: ParsedJwt; provider: Provider } | { status: JwtStatus }> {
    const cached = this.#verified.get(from.token);
    if (cached && from.issuers.has(cached.provider.config.issuer)) {
      this.stats.jwt_cache_hit++;
      const timeStatus = checkTime(cached.jwt, Math.floor(this.#clock.now() / 1000));
      if (timeStatus) return { status: timeStatus };
      // Refresh its place: the cache keeps the most recently used tokens.
      this.#verified.delete(from.token);
      this.#verified.set(from.token, cached);
      return cached;
    }
    if (this.#cacheSize > 0) this.stats.jwt_cache_miss++;
    const jwt = parseJwt(from.token);
    if (typeof jwt === 'string') return { status: jwt };
    const iss = jwt.iss ?? '';
    const anyIssuer = from.issuers.has('');
    if (!from.issuers.has(iss) && !anyIssuer) return { status: 'unknownIssuer' };
    const candidates = this.#providers.filter(
      (p) => (p.config.issuer === iss || p.config.issuer === '') && from.issuers.has(p.config.issuer),
    );
    if (candidates.length === 0) return { status: 'unknownIssuer' };
    const timeStatus = checkTime(jwt, Math.floor(this.#clock.now() / 1000));
    if (timeStatus) return { status: timeStatus };
    let firstFailure: JwtStatus | undefined;
    for (const provider of candidates) {
      let status: JwtStatus | undefined;
      if (!audiencesAllowed(provider.config.audiences, jwt)) status = 'audienceNotAllowed';
      else status = await provider.keys.verify(jwt);
      if (status === undefined) {
        this.#remember(from.token, { jwt, provider });
        return { jwt, provider };
      }
      firstFailure ??= status;
    }
    return { status: firstFailure! };
  }

  #remember(token: string, entry: { jwt: ParsedJwt; provider: Provider }): void {
    if (this.#cacheSize <= 0) return;
    this.#verified.set(token, entry);
    if (this.#verified.size > this.#cacheSize) this.#verified.delete(this.#verified.keys().next().value!);
  }

  #deny(status: JwtStatus, ctx: RequestContext, info: JwtRequestInfo): JwtAuthnResult {
    this.stats.denied++;
    const body = JWT_STATUS_TEXT[status];
    // The realm is the URL without its query: a token sent as ?access_token= is not echoed back in a header.
    const q = ctx.path.indexOf('?');
    const path = (q >= 0 ? ctx.path.slice(0, q) : ctx.path).slice(0, MAX_REALM_PATH);
    const realm = `${info.scheme ?? 'http'}://${ctx.authority}${path}`.replace(/["\\\r\n]/g, '');
    const challenge = `Bearer realm="${realm}"${status === 'missing' ? '' : ', error="invalid_token"'}`;
    return {
      action: 'deny',
      status: httpStatusFor(status),
      body,
      reason: status,
      responseHeaders: [{ name: 'www-authenticate', value: challenge }],
      details: `jwt_authn_access_denied{${body.replace(/\s/g, '_')}}`,
    };
  }
}
