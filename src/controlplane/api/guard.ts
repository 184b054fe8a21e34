// Keeps web pages on other origins from changing the mesh through a browser (CSRF and DNS rebinding).

import { isIP } from 'node:net';
import { TrellisError } from '../../shared/errors.js';
import type { RouteContext } from './router.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

function hostname(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(1, hostHeader.indexOf(']'));
  const colon = hostHeader.lastIndexOf(':');
  return (colon < 0 ? hostHeader : hostHeader.slice(0, colon)).toLowerCase();
}

/**
 * Browsers send Origin on every cross-origin request and on same-origin POST/DELETE; CLIs and sidecars send
 * none and pass. A write from a browser must come from the page this server served (Origin equals Host),
 * and the Host must be an IP literal, localhost or a configured name: a rebound DNS name fails that test.
 */
export function sameOriginWrites(allowedHosts: readonly string[] = []): (ctx: RouteContext) => void {
  const allowed = new Set(allowedHosts.map((h) => h.toLowerCase()));
  return ({ req }) => {
    if (SAFE.has(req.method ?? 'GET')) return;
    const origin = req.headers.origin;
    if (origin === undefined) return;
    const host = req.headers.host ?? '';
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = '';
    }
    const name = hostname(host);
    const trusted =
      isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost') || allowed.has(name);
    if (originHost !== host || !trusted) {
      throw new TrellisError(
        'API_FORBIDDEN',
        `${req.method} from origin ${origin} to host ${host} refused: changes are accepted from the dashboard's own origin on a loopback/IP address or an allowed host name`,
      );
    }
  };
}
