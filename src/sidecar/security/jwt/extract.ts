// Where JWTs are found: the configured headers (with prefixes), query parameters and cookies of every provider.

import type { JwtProviderConfig } from '../../config/model.js';
import type { RequestContext } from '../context.js';

/** A token found in the request, with the issuers whose providers look there. */
export interface ExtractedToken {
  token: string;
  issuers: ReadonlySet<string>;
  /** Where it came from, so that `forward: false` can remove it. */
  location:
    | { kind: 'header'; name: string }
    | { kind: 'param'; name: string }
    | { kind: 'cookie'; name: string };
}

interface HeaderLocation {
  name: string;
  prefix: string;
  issuers: Set<string>;
}

/** Envoy's defaults when a provider names no location: `Authorization: Bearer <token>`, then `?access_token=`. */
const DEFAULT_HEADER = { name: 'authorization', valuePrefix: 'Bearer ' };
const DEFAULT_PARAM = 'access_token';

function queryParams(path: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const q = path.indexOf('?');
  if (q < 0) return out;
  const hash = path.indexOf('#', q);
  const query = path.slice(q + 1, hash >= 0 ? hash : undefined);
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawName = eq >= 0 ? pair.slice(0, eq) : pair;
    const rawValue = eq >= 0 ? pair.slice(eq + 1) : '';
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        return s;
      }
    };
    const name = decode(rawName);
    const list = out.get(name) ?? [];
    list.push(decode(rawValue));
    out.set(name, list);
  }
  return out;
}

function cookies(values: readonly string[] | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const header of values ?? []) {
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      let value = pair.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      const list = out.get(name) ?? [];
      list.push(value);
      out.set(name, list);
    }
  }
  return out;
}

/** The token locations of a set of providers, merged as Envoy's extractor merges them. */
export class TokenExtractor {
  readonly #headers: HeaderLocation[] = [];
  readonly #params = new Map<string, Set<string>>();
  readonly #cookies = new Map<string, Set<string>>();
  /** Headers the filter writes (payload, claims): a client's own copies are always removed first. */
  readonly outputHeaders: readonly string[];

  constructor(providers: readonly JwtProviderConfig[]) {
    const output = new Set<string>();
    for (const p of providers) {
      const none = p.fromHeaders.length === 0 && p.fromParams.length === 0 && p.fromCookies.length === 0;
      for (const h of none ? [DEFAULT_HEADER] : p.fromHeaders)
        this.#addHeader(h.name, h.valuePrefix, p.issuer);
      for (const name of none ? [DEFAULT_PARAM] : p.fromParams) add(this.#params, name, p.issuer);
      for (const name of p.fromCookies) add(this.#cookies, name, p.issuer);
      if (p.forwardPayloadHeader) output.add(p.forwardPayloadHeader.toLowerCase());
      for (const c of p.claimToHeaders) output.add(c.headerName.toLowerCase());
    }
    this.outputHeaders = [...output];
  }

  #addHeader(name: string, prefix: string, issuer: string): void {
    const lower = name.toLowerCase();
    let loc = this.#headers.find((h) => h.name === lower && h.prefix === prefix);
    if (!loc) {
      loc = { name: lower, prefix, issuers: new Set() };
      this.#headers.push(loc);
    }
    loc.issuers.add(issuer);
  }

  /**
   * Every token in the request: each value of each configured header (a repeated `Authorization` yields
   * every token, so a valid one cannot escort an invalid one past the filter), then parameters, then cookies.
   * A header prefix is compared case-insensitively (`bearer` works).
   */
  extract(ctx: RequestContext): ExtractedToken[] {
    const out: ExtractedToken[] = [];
    for (const loc of this.#headers) {
      for (const raw of ctx.headers.values(loc.name) ?? []) {
        if (loc.prefix && raw.slice(0, loc.prefix.length).toLowerCase() !== loc.prefix.toLowerCase())
          continue;
        const token = raw.slice(loc.prefix.length).trim();
        if (token) out.push({ token, issuers: loc.issuers, location: { kind: 'header', name: loc.name } });
      }
    }
    if (this.#params.size > 0) {
      const params = queryParams(ctx.path);
      for (const [name, issuers] of this.#params) {
        for (const token of params.get(name) ?? []) {
          if (token) out.push({ token, issuers, location: { kind: 'param', name } });
        }
      }
    }
    if (this.#cookies.size > 0) {
      const jar = cookies(ctx.headers.values('cookie'));
      for (const [name, issuers] of this.#cookies) {
        for (const token of jar.get(name) ?? []) {
          if (token) out.push({ token, issuers, location: { kind: 'cookie', name } });
        }
      }
    }
    return out;
  }
}

function add(map: Map<string, Set<string>>, key: string, issuer: string): void {
  const set = map.get(key) ?? new Set<string>();
  set.add(issuer);
  map.set(key, set);
}
