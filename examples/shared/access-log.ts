// One access line per request on stdout, in the combined log format gunicorn and httpd print (what `trellis logs` shows).

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

export interface AccessLogOptions {
  write?: (line: string) => void;
  now?: () => Date;
}

export interface AccessRecord {
  remoteAddress: string;
  time: Date;
  method: string;
  url: string;
  httpVersion: string;
  status: number;
  bytes: number;
  referer: string | undefined;
  userAgent: string | undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `127.0.0.1 - - [07/Mar/2018:19:02:43 +0000] "GET /headers HTTP/1.1" 200 321 "-" "curl/7.35.0"` */
export function formatAccessLine(r: AccessRecord): string {
  const t = r.time;
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${pad(t.getUTCDate())}/${MONTHS[t.getUTCMonth()]}/${t.getUTCFullYear()}:${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())} +0000`;
  const quoted = (v: string | undefined) => `"${(v ?? '-').replace(/["\\]/g, '\\$&')}"`;
  return `${r.remoteAddress} - - [${stamp}] "${r.method} ${r.url} HTTP/${r.httpVersion}" ${r.status} ${r.bytes} ${quoted(r.referer)} ${quoted(r.userAgent)}`;
}

/** Wraps a handler so that every request, finished or aborted, prints exactly one access line. */
export function withAccessLog(handler: RequestListener, opts: AccessLogOptions = {}): RequestListener {
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = opts.now ?? (() => new Date());
  return (req: IncomingMessage, res: ServerResponse) => {
    const time = now();
    let bytes = 0;
    const count = (chunk: unknown, encoding?: unknown) => {
      if (typeof chunk === 'string') {
        bytes += Buffer.byteLength(
          chunk,
          typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
        );
      } else if (chunk instanceof Uint8Array) bytes += chunk.length;
    };
    const write0 = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end0 = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      count(chunk, rest[0]);
      return write0(chunk, ...rest);
    }) as ServerResponse['write'];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== 'function') count(chunk, rest[0]);
      return end0(chunk, ...rest);
    }) as ServerResponse['end'];
    let logged = false;
    const log = () => {
      if (logged) return;
      logged = true;
      write(
        formatAccessLine({
          remoteAddress: (req.socket.remoteAddress ?? '-').replace(/^::ffff:/, ''),
          time,
          method: req.method ?? '-',
          url: req.url ?? '-',
          httpVersion: req.httpVersion,
          // A request abandoned before any reply was written has no status; print 0 as Envoy does.
          status: res.headersSent ? res.statusCode : 0,
          bytes: req.method === 'HEAD' ? 0 : bytes,
          referer: req.headers.referer,
          userAgent: req.headers['user-agent'],
        }),
      );
    };
    res.on('finish', log);
    res.on('close', log);
    handler(req, res);
  };
}
