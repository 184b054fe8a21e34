// `load server`: fortio's echo server (`?status=503` sets the status, `?delay=250ms` delays the reply).

import type { RequestListener } from 'node:http';
import { readBody } from '../shared/http-util.js';
import { parseGoDuration } from './go-duration.js';

export const createEchoHandler = (): RequestListener => (req, res) => {
  const query = new URL(req.url ?? '/', 'http://echo').searchParams;
  const status = Number(query.get('status') ?? 200);
  const delayMs = Math.min(parseGoDuration(query.get('delay') ?? '0') ?? 0, 10_000);
  readBody(req).then(
    (body) => {
      const timer = setTimeout(() => {
        res.writeHead(status >= 200 && status <= 599 ? status : 400, {
          'content-type': String(req.headers['content-type'] ?? 'application/octet-stream'),
          'content-length': body.length,
        });
        res.end(body);
      }, delayMs);
      res.on('close', () => clearTimeout(timer));
    },
    () => res.destroy(),
  );
};
