// tcp-echo: answers every newline-terminated line with `<prefix> <line>`, so a client can tell v1 (`one`) from v2 (`two`).

import net from 'node:net';

export interface TcpEchoOptions {
  prefix: string;
  log?: (line: string) => void;
}

/** A server that echoes each complete line with the prefix; a trailing partial line is dropped, as Istio's Go server does. */
export function createTcpEchoServer(opts: TcpEchoOptions): net.Server {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  return net.createServer((socket) => {
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (let nl = pending.indexOf(10); nl !== -1; nl = pending.indexOf(10)) {
        const line = pending.subarray(0, nl + 1);
        pending = pending.subarray(nl + 1);
        log(`request: ${line.toString('utf8').trimEnd()}`);
        const reply = `${opts.prefix} ${line.toString('utf8')}`;
        log(`response: ${reply.trimEnd()}`);
        socket.write(reply);
      }
    });
    socket.on('end', () => socket.end());
    socket.on('error', (e) => log(`failed to read data, err: ${e.message}`));
  });
}
