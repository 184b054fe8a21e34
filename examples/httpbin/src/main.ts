// Entry point of the httpbin container: `node httpbin/src/main.js 8080` (Istio's sample listens on 8080 behind Service port 8000).

import { exitOnStartupError, portFromArgs, serveHttp } from '../../shared/server.js';
import { createHttpbinHandler } from './httpbin.js';

serveHttp({
  name: 'httpbin',
  port: portFromArgs(process.argv.slice(2), process.env, 8080),
  handler: createHttpbinHandler(),
}).catch(exitOnStartupError('httpbin'));
