// Reading request bodies with a size limit, as text.

import type { IncomingMessage } from 'node:http';
import { TrellisError } from '../../shared/errors.js';

/** Resolves the body as UTF-8; rejects with API_PAYLOAD_TOO_LARGE past `limitBytes` (and drains the rest). */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume();
    return Promise.reject(tooLarge(limitBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limitBytes) over = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (over) reject(tooLarge(limitBytes));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function tooLarge(limit: number): TrellisError {
  return new TrellisError('API_PAYLOAD_TOO_LARGE', `request body larger than ${limit} bytes`);
}
