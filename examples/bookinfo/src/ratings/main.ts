// Entry point of the ratings container: `node ratings/main.js 9080`.

import { exitOnStartupError, portFromArgs, serveHttp } from '../../../shared/server.js';
import { createRatingsHandler } from './ratings.js';

serveHttp({
  name: 'ratings',
  port: portFromArgs(process.argv.slice(2), process.env, 9080),
  handler: createRatingsHandler({ serviceVersion: process.env.SERVICE_VERSION }),
}).catch(exitOnStartupError('ratings'));
