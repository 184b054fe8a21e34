// Entry point of the productpage container: `node productpage/main.js 9080`.

import { exitOnStartupError, portFromArgs, serveHttp } from '../../../shared/server.js';
import { createProductPageHandler } from './app.js';
import { productPageOptionsFromEnv } from './config.js';

serveHttp({
  name: 'productpage',
  port: portFromArgs(process.argv.slice(2), process.env, 9080),
  handler: createProductPageHandler(productPageOptionsFromEnv(process.env)),
}).catch(exitOnStartupError('productpage'));
