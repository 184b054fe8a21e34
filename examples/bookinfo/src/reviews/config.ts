// Reads the reviews container's environment the way Istio's image does (ENABLE_RATINGS, STAR_COLOR, ...).

import type { ReviewsOptions } from './reviews.js';

export function reviewsOptionsFromEnv(env: NodeJS.ProcessEnv): ReviewsOptions {
  const domain = env.SERVICES_DOMAIN ? `.${env.SERVICES_DOMAIN}` : '';
  return {
    // Java's Boolean.valueOf: only "true", in any case, is true.
    ratingsEnabled: (env.ENABLE_RATINGS ?? '').toLowerCase() === 'true',
    starColor: env.STAR_COLOR ?? 'black',
    // RATINGS_URL is a Trellis addition for running the app outside a mesh (tests, a laptop).
    ratingsUrl: env.RATINGS_URL ?? `http://${env.RATINGS_HOSTNAME ?? 'ratings'}${domain}:9080`,
    podName: env.POD_NAME ?? env.HOSTNAME ?? 'unknown',
    clusterName: env.CLUSTER_NAME ?? 'null',
  };
}
