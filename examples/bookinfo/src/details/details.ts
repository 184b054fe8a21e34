// Bookinfo's details service: the book's publication facts, built in (v1) or fetched from Google Books (v2).

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { httpRequest } from '../../../shared/http-client.js';
import { pathOf, sendJson } from '../../../shared/http-util.js';
import { B3_HEADERS, CONTEXT_HEADERS, forwardHeaders } from '../../../shared/trace-headers.js';

export interface DetailsOptions {
  /** ENABLE_EXTERNAL_BOOK_SERVICE=true (the v2 image): ask Google Books instead of answering from memory. */
  externalBookService?: boolean;
  /** DO_NOT_ENCRYPT=true: call the external service over plain HTTP on port 80 and let the sidecar originate TLS. */
  doNotEncrypt?: boolean;
  /** Base of the Books API; tests point it at a local stub. */
  externalBaseUrl?: string;
}

export interface BookDetails {
  id: number;
  author: string;
  year: number | string;
  type: string;
  pages: number;
  publisher: string;
  language: string;
  'ISBN-10': string;
  'ISBN-13': string;
}

/** The one book Bookinfo knows about, whatever id is asked for (as in Istio's details.rb). */
export function builtInDetails(id: number): BookDetails {
  return {
    id,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  };
}

// The ISBN of a Comedy of Errors edition with Shakespeare as the single author.
const ISBN = '0486424618';

export function createDetailsHandler(opts: DetailsOptions = {}): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = pathOf(req);
    if (path === '/health') {
      sendJson(res, 200, { status: 'Details is healthy' });
      return;
    }
    if (!path.startsWith('/details')) {
      sendJson(res, 404, { error: `no route for ${path}` });
      return;
    }
    const last = path.split('/').pop() ?? '';
    const id = /^-?\d+$/.test(last) ? Number(last) : Number.NaN;
    if (Number.isNaN(id)) {
      sendJson(res, 400, { error: 'please provide numeric product id' });
      return;
    }
    if (!opts.externalBookService) {
      sendJson(res, 200, builtInDetails(id));
      return;
    }
    const headers = forwardHeaders(req.headers, [...CONTEXT_HEADERS, ...B3_HEADERS]);
    fetchExternalDetails(id, headers, opts).then(
      (details) => sendJson(res, 200, details),
      (e: unknown) => sendJson(res, 400, { error: e instanceof Error ? e.message : String(e) }),
    );
  };
}

interface VolumeInfo {
  authors?: string[];
  publishedDate?: string;
  printType?: string;
  pageCount?: number;
  publisher?: string;
  language?: string;
  industryIdentifiers?: { type: string; identifier: string }[];
}

async function fetchExternalDetails(
  id: number,
  headers: Record<string, string>,
  opts: DetailsOptions,
): Promise<BookDetails> {
  const base =
    opts.externalBaseUrl ?? (opts.doNotEncrypt ? 'http://www.googleapis.com' : 'https://www.googleapis.com');
  const res = await httpRequest(`${base}/books/v1/volumes?q=isbn:${ISBN}`, { headers, timeoutMs: 5000 });
  if (res.status !== 200) throw new Error(`external book service answered ${res.status}`);
  const book = (JSON.parse(res.body.toString('utf8')) as { items?: { volumeInfo: VolumeInfo }[] }).items?.[0]
    ?.volumeInfo;
  if (!book) throw new Error(`external book service has no book with ISBN ${ISBN}`);
  const isbn = (type: string) => book.industryIdentifiers?.find((i) => i.type === type)?.identifier ?? '';
  return {
    id,
    author: book.authors?.[0] ?? 'unknown',
    year: book.publishedDate ?? 'unknown',
    type: book.printType === 'BOOK' ? 'paperback' : 'unknown',
    pages: book.pageCount ?? 0,
    publisher: book.publisher ?? 'unknown',
    language: book.language === 'en' ? 'English' : 'unknown',
    'ISBN-10': isbn('ISBN_10'),
    'ISBN-13': isbn('ISBN_13'),
  };
}
