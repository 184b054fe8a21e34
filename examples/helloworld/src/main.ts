// Entry point of the helloworld container: `node helloworld/src/main.js 5000`.

import { exitOnStartupError, portFromArgs, serveHttp } from '../../shared/server.js';
import { createHelloworldHandler } from './helloworld.js';

serveHttp({
  name: 'helloworld',
  port: portFromArgs(process.argv.slice(2), process.env, 5000),
  handler: createHelloworldHandler({
    version: process.env.SERVICE_VERSION,
    instance: process.env.HOSTNAME ?? process.env.POD_NAME,
  }),
}).catch(exitOnStartupError('helloworld'));
