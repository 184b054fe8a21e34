// Reads productpage's environment the way Istio's image does (SERVICES_DOMAIN, DETAILS_HOSTNAME, ...).

import type { ProductPageOptions } from './app.js';

/** Flask keeps a fixed secret in the image so sessions survive restarts and work across replicas; so do we. */
const DEFAULT_SECRET = 'trellis-bookinfo-productpage';

export function productPageOptionsFromEnv(env: NodeJS.ProcessEnv): ProductPageOptions {
  const domain = env.SERVICES_DOMAIN ? `.${env.SERVICES_DOMAIN}` : '';
  // The *_URL variables are a Trellis addition for running the app outside a mesh (tests, a laptop).
  const base = (name: string) =>
    env[`${name.toUpperCase()}_URL`] ??
    `http://${env[`${name.toUpperCase()}_HOSTNAME`] ?? name}${domain}:9080`;
  return {
    detailsUrl: base('details'),
    reviewsUrl: base('reviews'),
    ratingsUrl: base('ratings'),
    sessionSecret: env.SESSION_SECRET ?? DEFAULT_SECRET,
  };
}
