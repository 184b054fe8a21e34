// Bookinfo's reviews service, one program for v1/v2/v3: two reviews, with stars from ratings when ENABLE_RATINGS is on.

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { HttpRequestError, httpRequest } from '../../../shared/http-client.js';
import { pathOf, sendJson } from '../../../shared/http-util.js';
import { B3_HEADERS, CONTEXT_HEADERS, forwardHeaders } from '../../../shared/trace-headers.js';

export interface ReviewsOptions {
  /** v1: false (no stars, never calls ratings); v2 and v3: true. */
  ratingsEnabled: boolean;
  /** v2: `black` (the default), v3: `red`. */
  starColor: string;
  /** Base URL of the ratings service, e.g. `http://ratings:9080`. */
  ratingsUrl: string;
  /** Shown as "Reviews served by" on the product page. */
  podName: string;
  /** `null` when unset, as Istio's Java service prints it. */
  clusterName: string;
  log?: (line: string) => void;
}

/** The headers reviews copies onto its ratings call: productpage's list plus `end-user`, so routing on the user works one hop further. */
export const REVIEWS_FORWARDED_HEADERS: readonly string[] = [...CONTEXT_HEADERS, ...B3_HEADERS, 'end-user'];

const REVIEWS = [
  {
    reviewer: 'Reviewer1',
    text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!',
  },
  {
    reviewer: 'Reviewer2',
    text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.',
  },
];

export const RATINGS_UNAVAILABLE = 'Ratings service is currently unavailable';

export interface Rating {
  stars?: number;
  color?: string;
  error?: string;
}

export interface ReviewsResponse {
  id: string;
  podname: string;
  clustername: string;
  reviews: { reviewer: string; text: string; rating?: Rating }[];
}

/**
 * The hard-coded "bug" the fault-injection task relies on: black stars (v2) wait 10 s for ratings,
 * any other colour (v3) 2.5 s.
 */
export function ratingsTimeoutMs(starColor: string): number {
  return starColor === 'black' ? 10_000 : 2_500;
}

/** Builds the reviews JSON; `stars` is undefined when ratings could not be had. */
export function reviewsResponse(
  productId: string,
  stars: Record<string, number> | undefined,
  opts: Pick<ReviewsOptions, 'ratingsEnabled' | 'starColor' | 'podName' | 'clusterName'>,
): ReviewsResponse {
  return {
    id: productId,
    podname: opts.podName,
    clustername: opts.clusterName,
    reviews: REVIEWS.map((r) => {
      if (!opts.ratingsEnabled) return { ...r };
      const n = stars?.[r.reviewer];
      const rating: Rating =
        typeof n === 'number' ? { stars: n, color: opts.starColor } : { error: RATINGS_UNAVAILABLE };
      return { ...r, rating };
    }),
  };
}

export function createReviewsHandler(opts: ReviewsOptions): RequestListener {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = pathOf(req);
    if (path === '/health') {
      sendJson(res, 200, { status: 'Reviews is healthy' });
      return;
    }
    const match = /^\/reviews\/(-?\d+)$/.exec(path);
    if (!match || req.method !== 'GET') {
      sendJson(res, 404, { error: `no route for ${req.method} ${path}` });
      return;
    }
    const productId = String(Number(match[1]));
    const respond = (stars: Record<string, number> | undefined) =>
      sendJson(res, 200, reviewsResponse(productId, stars, opts));
    if (!opts.ratingsEnabled) {
      respond(undefined);
      return;
    }
    fetchStars(productId, req, opts, log).then(respond);
  };
}

async function fetchStars(
  productId: string,
  req: IncomingMessage,
  opts: ReviewsOptions,
  log: (line: string) => void,
): Promise<Record<string, number> | undefined> {
  const url = `${opts.ratingsUrl}/ratings/${productId}`;
  try {
    const res = await httpRequest(url, {
      headers: { accept: 'application/json', ...forwardHeaders(req.headers, REVIEWS_FORWARDED_HEADERS) },
      timeoutMs: ratingsTimeoutMs(opts.starColor),
    });
    if (res.status !== 200) {
      log(`Error: unable to contact ${url} got status of ${res.status}`);
      return undefined;
    }
    const body = JSON.parse(res.body.toString('utf8')) as { ratings?: Record<string, number> };
    return body.ratings ?? {};
  } catch (e) {
    const cause = e instanceof HttpRequestError ? `${e.code}: ${e.message}` : String(e);
    log(`Error: unable to contact ${url} got exception ${cause}`);
    return undefined;
  }
}
