// `fetch`: a curl-like client for tests and `trellis exec`, honouring HTTP_PROXY/HTTPS_PROXY/NO_PROXY, with curl's exit codes.

import { readFileSync, writeFileSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import { HttpRequestError, type HttpResponse, httpRequest } from '../shared/http-client.js';
import type { ProxyEnv } from '../shared/proxy-env.js';
import { CURL_EXIT, CURL_HTTP_ERROR, CURL_USAGE, CURL_WRITE_ERROR, curlMessage } from './curl-exit.js';
import { type FetchArgs, parseFetchArgs, UsageError } from './fetch-args.js';
import { formatWriteOut } from './write-out.js';

export const USAGE = `usage: fetch URL [-X METHOD] [-H 'Name: value']... [-d DATA|@FILE] [--json DATA] [-s] [-S] [-f]
             [-o FILE] [-w FORMAT] [-I] [-i] [-L] [-k] [--cacert F] [--cert F --key F]
             [-m|--max-time SECONDS] [-x PROXY] [--noproxy HOSTS] [-A UA] [-u USER:PASS] [-v]`;

export interface FetchIo {
  stdout: (data: string | Uint8Array) => void;
  stderr: (text: string) => void;
  env: ProxyEnv;
  readFile?: (path: string) => string;
}

const USER_AGENT = 'trellis-fetch/1.0';
const MAX_REDIRECTS = 50;

/** Runs one fetch and returns the exit code curl would return. */
export async function runFetch(argv: readonly string[], io: FetchIo): Promise<number> {
  const readFile = io.readFile ?? ((p: string) => readFileSync(p === '-' ? 0 : p, 'utf8'));
  let args: FetchArgs;
  try {
    args = parseFetchArgs(argv, readFile);
  } catch (e) {
    io.stderr(`fetch: ${e instanceof UsageError ? e.message : String(e)}\n${USAGE}\n`);
    return CURL_USAGE;
  }
  const started = performance.now();
  const reportError = (msg: string) => {
    if (!args.silent || args.showError) io.stderr(`${msg}\n`);
  };
  let response: HttpResponse | undefined;
  let exitCode = 0;
  let errorMessage = '';
  let url = args.url;
  try {
    for (let hops = 0; ; hops++) {
      response = await httpRequest(url, requestOptions(args, io.env));
      const location = response.headers.location;
      if (!args.followRedirects || !location || ![301, 302, 303, 307, 308].includes(response.status)) break;
      if (hops >= MAX_REDIRECTS) throw new Error(`maximum (${MAX_REDIRECTS}) redirects followed`);
      url = new URL(location, url).href;
    }
  } catch (e) {
    if (!(e instanceof HttpRequestError)) throw e;
    exitCode = CURL_EXIT[e.code];
    errorMessage = curlMessage(e.code, e.message);
    reportError(errorMessage);
  }
  let headerBlock = '';
  if (response) {
    headerBlock = formatHead(response);
    if (args.verbose) io.stderr(headerBlock.replace(/^(?=.)/gm, '< '));
    if (args.fail && response.status >= 400) {
      exitCode = CURL_HTTP_ERROR;
      errorMessage = `curl: (22) The requested URL returned error: ${response.status}`;
      reportError(errorMessage);
    } else {
      const out = args.head
        ? Buffer.from(headerBlock)
        : args.include
          ? Buffer.concat([Buffer.from(headerBlock), response.body])
          : response.body;
      try {
        if (args.output === undefined || args.output === '-') io.stdout(out);
        else writeFileSync(args.output, out);
      } catch (e) {
        exitCode = CURL_WRITE_ERROR;
        errorMessage = `curl: (23) Failure writing output to destination: ${(e as Error).message}`;
        reportError(errorMessage);
      }
    }
  }
  if (args.writeOut !== undefined) {
    io.stdout(
      formatWriteOut(args.writeOut, {
        httpCode: response?.status ?? 0,
        timeTotalSeconds: (performance.now() - started) / 1000,
        sizeDownload: response?.body.length ?? 0,
        sizeHeader: Buffer.byteLength(headerBlock),
        contentType: String(response?.headers['content-type'] ?? ''),
        urlEffective: url,
        httpVersion: response?.httpVersion ?? '0',
        exitCode,
        errorMessage,
      }),
    );
  }
  return exitCode;
}

function requestOptions(args: FetchArgs, env: ProxyEnv) {
  const headers: OutgoingHttpHeaders = { 'user-agent': USER_AGENT, accept: '*/*' };
  for (const [name, value] of args.headers) {
    const lower = name.toLowerCase();
    // `-H 'Name:'` removes a default header, as in curl.
    if (value === '') delete headers[lower];
    else headers[lower] = value;
  }
  if (args.data !== undefined && headers['content-type'] === undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const method = args.method ?? (args.head ? 'HEAD' : args.data !== undefined ? 'POST' : 'GET');
  const proxyEnv: ProxyEnv =
    args.proxy !== undefined || args.noProxy !== undefined
      ? {
          ...env,
          ...(args.proxy !== undefined ? { http_proxy: args.proxy, https_proxy: args.proxy } : {}),
          ...(args.noProxy !== undefined ? { no_proxy: args.noProxy } : {}),
        }
      : env;
  return {
    method,
    headers,
    body: args.data,
    timeoutMs: args.maxTimeMs,
    env: proxyEnv,
    tls: {
      insecure: args.insecure,
      ca: args.cacert ? readFileSync(args.cacert) : undefined,
      cert: args.cert ? readFileSync(args.cert) : undefined,
      key: args.key ? readFileSync(args.key) : undefined,
    },
  };
}

/** `HTTP/1.1 200 OK` and the headers as received, CRLF-terminated, as curl -I prints them. */
export function formatHead(r: HttpResponse): string {
  const lines = [`HTTP/${r.httpVersion} ${r.status}${r.statusMessage ? ` ${r.statusMessage}` : ''}`];
  for (let i = 0; i < r.rawHeaders.length; i += 2) lines.push(`${r.rawHeaders[i]}: ${r.rawHeaders[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
