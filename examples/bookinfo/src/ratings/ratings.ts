// Bookinfo's ratings service: star ratings per product, kept in memory, with Istio's misbehaving variants by SERVICE_VERSION.

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { pathOf, readBody, sendJson } from '../../../shared/http-util.js';

export interface RatingsOptions {
  /**
   * `v1` (default) answers from memory. Istio's other images: `v-faulty` fails half the requests with 503,
   * `v-delayed` delays half by 7 s, `v-unavailable` is down every other minute, `v-unhealthy` every other
   * 15 minutes (health checks fail too), `v2` needs a database and Trellis ships none, so it answers 500.
   */
  serviceVersion?: string;
  /** Returns [0, 1); injected so tests can pick the faulty branch. */
  random?: () => number;
  /** Milliseconds since the epoch; injected for the time-windowed variants. */
  now?: () => number;
  /** How long `v-delayed` waits, 7 s as in Istio. */
  delayMs?: number;
}

export interface ProductRatings {
  id: number;
  ratings: Record<string, number>;
}

export function defaultRatings(productId: number): ProductRatings {
  return { id: productId, ratings: { Reviewer1: 5, Reviewer2: 4 } };
}

export function createRatingsHandler(opts: RatingsOptions = {}): RequestListener {
  const version = opts.serviceVersion ?? 'v1';
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  const delayMs = opts.delayMs ?? 7000;
  const userAdded = new Map<number, ProductRatings>();
  const downEvery = (periodMs: number) => Math.floor(now() / periodMs) % 2 === 1;
  const unavailable = () =>
    (version === 'v-unavailable' && downEvery(60_000)) || (version === 'v-unhealthy' && downEvery(900_000));
  const ratingsFor = (id: number) => userAdded.get(id) ?? defaultRatings(id);

  return (req: IncomingMessage, res: ServerResponse) => {
    const path = pathOf(req);
    if (path === '/health' && req.method === 'GET') {
      if (version === 'v-unhealthy' && unavailable())
        sendJson(res, 500, { status: 'Ratings is not healthy' });
      else sendJson(res, 200, { status: 'Ratings is healthy' });
      return;
    }
    const match = /^\/ratings\/([^/]*)$/.exec(path);
    if (!match) {
      sendJson(res, 404, { error: `no route for ${req.method} ${path}` });
      return;
    }
    const productId = Number.parseInt(match[1]!, 10);
    if (Number.isNaN(productId)) {
      sendJson(res, 400, { error: 'please provide numeric product ID' });
      return;
    }
    if (req.method === 'POST') {
      void handlePost(req, res, productId, version, userAdded);
      return;
    }
    if (req.method !== 'GET') {
      sendJson(res, 405, { error: `method ${req.method} not allowed` });
      return;
    }
    if (version === 'v2') {
      sendJson(res, 500, { error: 'could not connect to ratings database' });
    } else if (version === 'v-faulty' && random() <= 0.5) {
      sendJson(res, 503, { error: 'Service unavailable' });
    } else if (version === 'v-delayed' && random() <= 0.5) {
      const timer = setTimeout(() => sendJson(res, 200, ratingsFor(productId)), delayMs);
      res.on('close', () => clearTimeout(timer));
    } else if (unavailable()) {
      sendJson(res, 503, { error: 'Service unavailable' });
    } else {
      sendJson(res, 200, ratingsFor(productId));
    }
  };
}

async function handlePost(
  req: IncomingMessage,
  res: ServerResponse,
  productId: number,
  version: string,
  store: Map<number, ProductRatings>,
): Promise<void> {
  let ratings: Record<string, number>;
  try {
    ratings = JSON.parse((await readBody(req)).toString('utf8')) as Record<string, number>;
  } catch {
    sendJson(res, 400, { error: 'please provide valid ratings JSON' });
    return;
  }
  if (version === 'v2') {
    sendJson(res, 501, { error: 'Post not implemented for database backed ratings' });
    return;
  }
  store.set(productId, { id: productId, ratings });
  sendJson(res, 200, store.get(productId));
}
