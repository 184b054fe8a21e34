// Large and slow bodies: 1 GiB in constant memory, backpressure in both directions.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { test } from 'node:test';
import { startProxy } from './helpers.js';

const BLOCK = 64 * 1024;

/** A 64 KiB block whose first 8 bytes hold its index: lets a reader check order and completeness cheaply. */
function block(index: number, template: Buffer): Buffer {
  template.writeBigUInt64BE(BigInt(index), 0);
  return template;
}

/** Checks a stream of arbitrary chunks against the block pattern; returns the byte count when done. */
class PatternChecker {
  offset = 0;
  #counter = Buffer.alloc(8);
  #errors = 0;

  feed(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      const inBlock = this.offset % BLOCK;
      if (inBlock < 8) {
        const n = Math.min(8 - inBlock, chunk.length - i);
        chunk.copy(this.#counter, inBlock, i, i + n);
        i += n;
        this.offset += n;
        if (
          inBlock + n === 8 &&
          this.#counter.readBigUInt64BE(0) !== BigInt(Math.floor((this.offset - 8) / BLOCK))
        ) {
          this.#errors++;
        }
      } else {
        const n = Math.min(BLOCK - inBlock, chunk.length - i);
        i += n;
        this.offset += n;
      }
    }
  }

  get ok(): boolean {
    return this.#errors === 0;
  }
}

function rssMonitor() {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  return {
    stop: () => {
      clearInterval(timer);
      return (Math.max(peak, process.memoryUsage().rss) - start) / (1024 * 1024);
    },
  };
}

test('1 GiB streams through the proxy in constant memory', async (t) => {
  const total = 1024 * 1024 * 1024;
  const checker = new PatternChecker();
  const upstream = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => checker.feed(c));
    req.on('end', () => res.end(String(checker.offset)));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const proxy = await startProxy((upstream.address() as AddressInfo).port);
  const rss = rssMonitor();
  const reply = await new Promise<string>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: proxy.port,
        method: 'PUT',
        path: '/big',
        headers: { 'content-length': total },
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    const template = Buffer.alloc(BLOCK, 0x61);
    let i = 0;
    const pump = () => {
      while (i < total / BLOCK) {
        if (!req.write(Buffer.from(block(i++, template)))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
  const grewMb = rss.stop();
  assert.equal(reply, String(total));
  assert.equal(checker.offset, total);
  assert.ok(checker.ok, 'blocks arrived in order, none lost or repeated');
  t.diagnostic(`RSS grew by ${grewMb.toFixed(0)} MB while 1024 MB went through`);
  assert.ok(grewMb < 200, `RSS grew by ${grewMb.toFixed(0)} MB while 1024 MB went through`);
  await proxy.close();
  upstream.close();
});

/** Resolves once `read()` has stopped changing for `quietMs` (the pipeline is stalled), or after `maxMs`. */
async function stalled(read: () => number, quietMs = 150, maxMs = 5000): Promise<void> {
  let last = read();
  let quietSince = Date.now();
  const start = Date.now();
  while (Date.now() - start < maxMs) {
    await new Promise((r) => setTimeout(r, 25));
    const now = read();
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) {
      return;
    }
  }
}

test('a slow client holds the upstream back instead of the proxy buffering the response', async (t) => {
  const total = 256 * 1024 * 1024;
  let written = 0;
  const upstream = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': total });
    const template = Buffer.alloc(BLOCK, 0x62);
    let i = 0;
    const pump = () => {
      while (i < total / BLOCK) {
        written += BLOCK;
        if (!res.write(Buffer.from(block(i++, template)))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const proxy = await startProxy((upstream.address() as AddressInfo).port);
  const client = net.connect({ host: '127.0.0.1', port: proxy.port });
  const checker = new PatternChecker();
  let headSeen = false;
  let received = 0;
  let pausedOnce = false;
  client.on('data', (c: Buffer) => {
    received += c.length;
    if (!headSeen) {
      const end = c.indexOf('\r\n\r\n');
      if (end === -1) return;
      headSeen = true;
      c = c.subarray(end + 4);
    }
    checker.feed(c);
    if (received > 1024 * 1024 && !pausedOnce) {
      pausedOnce = true;
      client.pause();
    }
  });
  client.write('GET /download HTTP/1.1\r\nHost: up\r\n\r\n');
  await stalled(() => written);
  const inFlight = (written - checker.offset) / (1024 * 1024);
  t.diagnostic(`${inFlight.toFixed(1)} MB in flight between upstream and a stalled client`);
  // Socket buffers on two loopback connections account for the slack; the proxy itself holds ~64 KiB.
  assert.ok(inFlight < 48, `${inFlight.toFixed(1)} MB in flight while the client read nothing`);
  assert.ok(written < total / 2, 'the upstream was stopped long before it sent everything');
  client.resume();
  await new Promise<void>((resolve) => {
    const check = () => (checker.offset >= total ? resolve() : setTimeout(check, 10));
    check();
  });
  assert.ok(checker.ok);
  client.destroy();
  await proxy.close();
  upstream.close();
});

test('a slow upstream holds the client back instead of the proxy buffering the request', async (t) => {
  const total = 256 * 1024 * 1024;
  const checker = new PatternChecker();
  let upstreamReq: http.IncomingMessage | undefined;
  const upstream = http.createServer((req, res) => {
    upstreamReq = req;
    let pausedOnce = false;
    req.on('data', (c: Buffer) => {
      checker.feed(c);
      if (checker.offset > 1024 * 1024 && !pausedOnce) {
        pausedOnce = true;
        req.pause();
      }
    });
    req.on('end', () => res.end('done'));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const proxy = await startProxy((upstream.address() as AddressInfo).port);
  let sent = 0;
  const done = new Promise<string>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: proxy.port,
        method: 'POST',
        path: '/upload',
        headers: { 'transfer-encoding': 'chunked' },
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    const template = Buffer.alloc(BLOCK, 0x63);
    let i = 0;
    const pump = () => {
      while (i < total / BLOCK) {
        sent += BLOCK;
        if (!req.write(Buffer.from(block(i++, template)))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
  await stalled(() => sent);
  const inFlight = (sent - checker.offset) / (1024 * 1024);
  t.diagnostic(`${inFlight.toFixed(1)} MB in flight between client and a stalled upstream`);
  assert.ok(inFlight < 48, `${inFlight.toFixed(1)} MB in flight while the upstream read nothing`);
  assert.ok(sent < total / 2);
  upstreamReq!.resume();
  assert.equal(await done, 'done');
  assert.equal(checker.offset, total);
  assert.ok(checker.ok);
  await proxy.close();
  upstream.close();
});
