// Entry point of the grpc-echo container: `node grpc-echo/src/main.js 7070`.

import { bindAddress, exitOnStartupError, portFromArgs } from '../../shared/server.js';
import { createEchoServer, listenEchoServer } from './echo-server.js';

const host = bindAddress();
const server = createEchoServer({
  hostname: process.env.HOSTNAME ?? process.env.POD_NAME ?? 'unknown',
  version: process.env.SERVICE_VERSION ?? 'v1',
});
listenEchoServer(server, host, portFromArgs(process.argv.slice(2), process.env, 7070)).then(
  (port) => process.stdout.write(`grpc-echo listening on ${host}:${port}\n`),
  exitOnStartupError('grpc-echo'),
);
