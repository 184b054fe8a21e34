// productpage's calls to details, reviews and ratings, with Istio's hard-coded timeouts and its one deliberate retry.

import { httpRequest } from '../../../shared/http-client.js';

export interface BackendUrls {
  /** Base URLs, e.g. `http://details:9080`. */
  detailsUrl: string;
  reviewsUrl: string;
  ratingsUrl: string;
}

export interface BackendOptions extends BackendUrls {
  /** Per-attempt timeout, 3 s as in productpage.py. */
  timeoutMs?: number;
  /** Called with the app and the status of every attempt (0 when no response), for metrics. */
  onResult?: (app: string, status: number) => void;
}

/** status 200 with the service's JSON, or the failure status (500 without a response) and an `error` text. */
export interface BackendResult {
  status: number;
  body: Record<string, unknown>;
}

export const DETAILS_UNAVAILABLE = 'Sorry, product details are currently unavailable for this book.';
export const REVIEWS_UNAVAILABLE = 'Sorry, product reviews are currently unavailable for this book.';
export const RATINGS_UNAVAILABLE = 'Sorry, product ratings are currently unavailable for this book.';

export class Backends {
  readonly #opts: BackendOptions;

  constructor(opts: BackendOptions) {
    this.#opts = opts;
  }

  details(productId: string, headers: Record<string, string>): Promise<BackendResult> {
    return this.#call(
      'details',
      `${this.#opts.detailsUrl}/details/${productId}`,
      headers,
      1,
      DETAILS_UNAVAILABLE,
    );
  }

  /**
   * Tried twice with a 3 s timeout each, so a hung reviews costs about 6 s: the "bug introduced explicitly for
   * illustration in fault injection task" that the fault-injection task's 7 s delay exposes.
   */
  reviews(productId: string, headers: Record<string, string>): Promise<BackendResult> {
    return this.#call(
      'reviews',
      `${this.#opts.reviewsUrl}/reviews/${productId}`,
      headers,
      2,
      REVIEWS_UNAVAILABLE,
    );
  }

  ratings(productId: string, headers: Record<string, string>): Promise<BackendResult> {
    return this.#call(
      'ratings',
      `${this.#opts.ratingsUrl}/ratings/${productId}`,
      headers,
      1,
      RATINGS_UNAVAILABLE,
    );
  }

  async #call(
    app: string,
    url: string,
    headers: Record<string, string>,
    attempts: number,
    unavailable: string,
  ): Promise<BackendResult> {
    let status = 500;
    for (let i = 0; i < attempts; i++) {
      try {
        const res = await httpRequest(url, { headers, timeoutMs: this.#opts.timeoutMs ?? 3000 });
        this.#opts.onResult?.(app, res.status);
        status = res.status;
        if (res.status === 200) return { status: 200, body: JSON.parse(res.body.toString('utf8')) };
      } catch {
        this.#opts.onResult?.(app, 0);
        status = 500;
      }
    }
    return { status, body: { error: unavailable } };
  }
}
