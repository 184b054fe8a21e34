// Command line client of the gRPC echo service; prints one JSON line per response.

// usage: node grpc-echo/src/client.js <target> [--message m] [--stream n] [--interval-ms ms] [--fail-code c]
//        [--timeout-ms ms] [-H key:value]...

import { parseArgs } from 'node:util';
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { EchoClient } from './echo-client.js';

const USAGE =
  'usage: client <target> [--message m] [--stream n] [--interval-ms ms] [--fail-code c] [--timeout-ms ms] [-H key:value]...';

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      message: { type: 'string', default: 'hello' },
      stream: { type: 'string' },
      'interval-ms': { type: 'string', default: '0' },
      'fail-code': { type: 'string', default: '0' },
      'timeout-ms': { type: 'string', default: '10000' },
      header: { type: 'string', short: 'H', multiple: true },
    },
  });
  const target = positionals[0];
  if (!target) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (target.startsWith('xds:')) {
    // Proxyless gRPC: the xDS resolver ships in @grpc/grpc-js-xds, a development dependency of Trellis.
    const xds = (await import('@grpc/grpc-js-xds')) as { register(): void };
    xds.register();
  }
  const metadata: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) {
      process.stderr.write(`bad header "${h}": expected key:value\n`);
      return 2;
    }
    metadata[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  }
  const client = new EchoClient(target);
  const request = {
    message: values.message,
    count: Number(values.stream ?? 0),
    intervalMs: Number(values['interval-ms']),
    failCode: Number(values['fail-code']),
  };
  const opts = { timeoutMs: Number(values['timeout-ms']), metadata };
  try {
    const responses =
      values.stream === undefined
        ? [await client.echo(request, opts)]
        : await client.streamEcho(request, opts);
    for (const r of responses) process.stdout.write(`${JSON.stringify(r)}\n`);
    return 0;
  } catch (e) {
    const err = e as ServiceError;
    process.stderr.write(
      `error: code=${err.code} (${grpcStatus[err.code] ?? 'UNKNOWN'}) ${err.details ?? err.message}\n`,
    );
    return 1;
  } finally {
    client.close();
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
