// tcp-echo as the TCP traffic-shifting task uses it: every line comes back prefixed, on every port it serves.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { type SpawnedApp, spawnApp } from './helpers/spawn-app.js';

let app: SpawnedApp;

before(async () => {
  app = await spawnApp({ script: 'tcp-echo/src/main.js', args: ['0,0', 'one'], listeners: 2 });
});
after(() => app.stop());

/** Sends `payload`, half-closes, and returns everything the server wrote until it closed. */
function exchange(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(payload));
    let received = '';
    socket.on('data', (d) => {
      received += d.toString('utf8');
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}

test('each line is echoed with the prefix, on both ports', async () => {
  assert.equal(app.ports.length, 2);
  for (const port of app.ports) {
    assert.equal(await exchange(port, 'hello\nworld\n'), 'one hello\none world\n');
  }
});

test('a line split across writes is echoed once complete; a final line without newline is not echoed', async () => {
  const reply = await new Promise<string>((resolve) => {
    const socket = net.connect(app.port, '127.0.0.1', () => {
      socket.write('Tue Nov 25 ');
      setImmediate(() => socket.end('17:00:00 UTC 2026\ntrailing'));
    });
    let received = '';
    socket.on('data', (d) => {
      received += d.toString('utf8');
    });
    socket.on('close', () => resolve(received));
  });
  assert.equal(reply, 'one Tue Nov 25 17:00:00 UTC 2026\n');
});

test('requests and responses are logged', async () => {
  await exchange(app.port, 'logged line\n');
  await app.waitForLines(/^request: logged line$/);
  await app.waitForLines(/^response: one logged line$/);
});
