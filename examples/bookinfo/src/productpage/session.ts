// The signed `session` cookie that remembers who signed in, like Flask's session: readable, but not forgeable.

import { createHmac, timingSafeEqual } from 'node:crypto';

const COOKIE = 'session';

export class SessionCookie {
  readonly #key: Buffer;

  constructor(secret: string) {
    this.#key = Buffer.from(secret, 'utf8');
  }

  /** A Set-Cookie value that stores `user`. */
  issue(user: string): string {
    const payload = Buffer.from(JSON.stringify({ user }), 'utf8').toString('base64url');
    return `${COOKIE}=${payload}.${this.#sign(payload)}; HttpOnly; Path=/`;
  }

  /** A Set-Cookie value that removes the session. */
  clear(): string {
    return `${COOKIE}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/`;
  }

  /** The signed-in user from a Cookie header, or undefined when absent or tampered with. */
  userFrom(cookieHeader: string | undefined): string | undefined {
    const value = readCookie(cookieHeader, COOKIE);
    if (!value) return undefined;
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const payload = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.#sign(payload), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { user?: unknown };
      return typeof session.user === 'string' && session.user !== '' ? session.user : undefined;
    } catch {
      return undefined;
    }
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
