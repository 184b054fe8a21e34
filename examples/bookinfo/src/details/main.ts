// Entry point of the details container: `node details/main.js 9080`.

import { exitOnStartupError, portFromArgs, serveHttp } from '../../../shared/server.js';
import { createDetailsHandler } from './details.js';

serveHttp({
  name: 'details',
  port: portFromArgs(process.argv.slice(2), process.env, 9080),
  handler: createDetailsHandler({
    externalBookService: process.env.ENABLE_EXTERNAL_BOOK_SERVICE === 'true',
    // WITH_ISTIO is the older name of the same switch.
    doNotEncrypt: process.env.DO_NOT_ENCRYPT === 'true' || process.env.WITH_ISTIO === 'true',
  }),
}).catch(exitOnStartupError('details'));
