// Test helpers over real HTTP: raw requests (headers and bytes as sent) and a Server-Sent Events reader.

import { type IncomingHttpHeaders, request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** node:http without fetch's automatic decompression, so tests see exactly what the server sent. */
export function raw(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export async function getJson<T>(url: string): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

export async function sendJson<T>(
  url: string,
  method: string,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/yaml' },
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { method, body, headers });
  return { status: res.status, body: (await res.json()) as T };
}

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** Reads an event stream; next(name) resolves with the first not-yet-consumed event of that name. */
export class SseReader {
  readonly events: SseEvent[] = [];
  readonly #waiters: { name: string; resolve: (e: SseEvent) => void }[] = [];
  #consumed = 0;
  #close: () => void = () => {};

  static open(url: string): Promise<SseReader> {
    const reader = new SseReader();
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`event stream answered ${res.statusCode}`));
          return;
        }
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
            reader.#parse(buffer.slice(0, i));
            buffer = buffer.slice(i + 2);
          }
        });
        resolve(reader);
      });
      reader.#close = () => req.destroy();
      req.on('error', (e) => {
        if (!reader.events.length) reject(e);
      });
      req.end();
    });
  }

  #parse(block: string): void {
    const e: SseEvent = { event: 'message', data: '' };
    let any = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':') || !line) continue;
      const colon = line.indexOf(':');
      const field = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') e.event = value;
      else if (field === 'data') e.data = value;
      else if (field === 'id') e.id = value;
      else continue;
      any = true;
    }
    if (!any) return;
    this.events.push(e);
    const w = this.#waiters.findIndex((x) => x.name === e.event);
    if (w >= 0) {
      this.#consumed = this.events.length;
      this.#waiters.splice(w, 1)[0]!.resolve(e);
    }
  }

  /** The next event named `name` after everything already consumed. */
  next(name: string): Promise<SseEvent> {
    const found = this.events.slice(this.#consumed).find((e) => e.event === name);
    if (found) {
      this.#consumed = this.events.indexOf(found) + 1;
      return Promise.resolve(found);
    }
    return new Promise((resolve) => this.#waiters.push({ name, resolve }));
  }

  /** Events received after the last consumed one, by name. */
  pending(): string[] {
    return this.events.slice(this.#consumed).map((e) => e.event);
  }

  close(): void {
    this.#close();
  }
}
