// Entry point of the reviews container: `node reviews/main.js 9080`; the version comes from ENABLE_RATINGS and STAR_COLOR.

import { exitOnStartupError, portFromArgs, serveHttp } from '../../../shared/server.js';
import { reviewsOptionsFromEnv } from './config.js';
import { createReviewsHandler } from './reviews.js';

serveHttp({
  name: 'reviews',
  port: portFromArgs(process.argv.slice(2), process.env, 9080),
  handler: createReviewsHandler(reviewsOptionsFromEnv(process.env)),
}).catch(exitOnStartupError('reviews'));
