// `load` (also installed as `fortio`): `load [load] -c 3 -qps 0 -n 30 URL`, `load curl URL`, `load server`.

import { writeFileSync } from 'node:fs';
import { HttpRequestError, httpRequest } from '../shared/http-client.js';
import type { ProxyEnv } from '../shared/proxy-env.js';
import { portFromArgs, serveHttp } from '../shared/server.js';
import { formatHead } from './fetch-command.js';
import { type LoadArgs, LoadUsageError, parseLoadArgs } from './load-args.js';
import { formatTextReport, jsonReport } from './load-report.js';
import { runLoad } from './load-runner.js';
import { createEchoHandler } from './load-server.js';

export const LOAD_USAGE = `usage: load [load] [-c connections] [-qps rate|0] [-n calls | -t duration] [-H 'Name: value']...
            [-payload body] [-content-type type] [-timeout 3s] [-p 50,75,90,99,99.9] [-json file|-] URL
       load curl [-H 'Name: value']... URL
       load server [-http-port 8080]`;

export interface LoadIo {
  stdout: (text: string | Uint8Array) => void;
  stderr: (text: string) => void;
  env: ProxyEnv;
}

/** Returns the process exit code; `server` never returns. */
export async function runLoadCommand(argv: readonly string[], io: LoadIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'server') return serve(rest);
  try {
    if (first === 'curl') return await curl(parseLoadArgs(rest), io);
    const args = parseLoadArgs(first === 'load' ? rest : argv);
    const result = await runLoad(args, { env: io.env });
    const text = formatTextReport(args, result);
    if (args.json === '-') {
      // Keep stdout parseable: the human summary goes to stderr.
      io.stderr(text);
      io.stdout(`${JSON.stringify(jsonReport(args, result), null, 2)}\n`);
    } else {
      io.stdout(text);
      if (args.json !== undefined) {
        writeFileSync(args.json, `${JSON.stringify(jsonReport(args, result), null, 2)}\n`);
        io.stdout(`Successfully wrote ${result.calls.length} calls of results to ${args.json}\n`);
      }
    }
    return 0;
  } catch (e) {
    if (e instanceof LoadUsageError) {
      io.stderr(`load: ${e.message}\n${LOAD_USAGE}\n`);
      return 1;
    }
    throw e;
  }
}

async function curl(args: LoadArgs, io: LoadIo): Promise<number> {
  const headers: Record<string, string> = {};
  for (const [k, v] of args.headers) headers[k.toLowerCase()] = v;
  try {
    const res = await httpRequest(args.url, { headers, timeoutMs: args.timeoutMs, env: io.env });
    io.stdout(formatHead(res));
    io.stdout(res.body);
    return 0;
  } catch (e) {
    if (!(e instanceof HttpRequestError)) throw e;
    io.stderr(`load curl: ${e.code}: ${e.message}\n`);
    return 1;
  }
}

async function serve(argv: readonly string[]): Promise<number> {
  const i = argv.findIndex((a) => a.replace(/^--?/, '') === 'http-port');
  const port = portFromArgs(i === -1 ? [] : [argv[i + 1] ?? ''], process.env, 8080);
  await serveHttp({ name: 'load-server', port, handler: createEchoHandler() });
  return new Promise<number>(() => {});
}
