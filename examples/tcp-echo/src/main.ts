// Entry point of the tcp-echo container: `node tcp-echo/src/main.js 9000,9001,9002 one` (ports, then prefix), as Istio's image.

import type { AddressInfo } from 'node:net';
import { bindAddress } from '../../shared/server.js';
import { createTcpEchoServer } from './echo-server.js';

const [portList, prefix] = process.argv.slice(2);
if (!portList || prefix === undefined) {
  process.stderr.write('usage: tcp-echo <port>[,<port>...] <prefix>\n');
  process.exit(2);
}
const host = bindAddress();
for (const port of portList.split(',')) {
  const server = createTcpEchoServer({ prefix });
  server.on('error', (e) => {
    process.stderr.write(`failed to create listener, err: ${e.message}\n`);
    process.exit(1);
  });
  server.listen(Number(port), host, () => {
    const address = server.address() as AddressInfo;
    process.stdout.write(`tcp-echo listening on ${host}:${address.port}, prefix: ${prefix}\n`);
  });
}
