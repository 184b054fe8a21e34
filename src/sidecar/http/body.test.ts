// Bodies: queueing before a reader, backpressure both ways, cancel, replay and tee within a limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type BodySink,
  type BodySource,
  bufferBody,
  EMPTY_BODY,
  makeReplayable,
  PushBody,
  readBody,
} from './body.js';
import { HeaderList } from './headers.js';

function recordingSource() {
  const events: string[] = [];
  const source: BodySource = {
    pause: () => events.push('pause'),
    resume: () => events.push('resume'),
    cancel: (e) => events.push(`cancel:${e.message}`),
  };
  return { source, events };
}

function collectingSink(opts: { acceptFirst?: number } = {}) {
  const chunks: string[] = [];
  let accept = opts.acceptFirst ?? Number.POSITIVE_INFINITY;
  const state = {
    ended: false,
    trailers: undefined as HeaderList | undefined,
    error: undefined as Error | undefined,
  };
  const sink: BodySink = {
    onData(c) {
      chunks.push(c.toString());
      return --accept > 0;
    },
    onEnd(t) {
      state.ended = true;
      state.trailers = t;
    },
    onError(e) {
      state.error = e;
    },
  };
  return { sink, chunks, state, allow: (n: number) => (accept = n) };
}

test('chunks pushed before a reader attaches are queued, then delivered in order with the trailers', () => {
  const body = new PushBody();
  assert.equal(body.push(Buffer.from('a')), true);
  body.push(Buffer.from('b'));
  body.end(new HeaderList({ 'grpc-status': '0' }));
  const { sink, chunks, state } = collectingSink();
  body.read(sink);
  assert.deepEqual(chunks, ['a', 'b']);
  assert.equal(state.ended, true);
  assert.equal(state.trailers?.get('grpc-status'), '0');
});

test('an unread body pauses its source once the high-water mark is reached, and resumes it when read', () => {
  const { source, events } = recordingSource();
  const body = new PushBody({ source, highWaterMark: 4 });
  assert.equal(body.push(Buffer.from('ab')), true);
  assert.equal(body.push(Buffer.from('cd')), false);
  assert.deepEqual(events, ['pause']);
  const { sink, chunks } = collectingSink();
  body.read(sink);
  assert.deepEqual(chunks, ['ab', 'cd']);
  assert.deepEqual(events, ['pause', 'resume']);
});

test('a slow reader returning false pauses the source until it calls resume()', () => {
  const { source, events } = recordingSource();
  const body = new PushBody({ source });
  const { sink, chunks, allow } = collectingSink({ acceptFirst: 1 });
  body.read(sink);
  assert.equal(body.push(Buffer.from('1')), false);
  assert.deepEqual(events, ['pause']);
  // Bytes already in flight when the source paused are queued, not lost.
  body.push(Buffer.from('2'));
  assert.deepEqual(chunks, ['1']);
  allow(10);
  body.resume();
  assert.deepEqual(chunks, ['1', '2']);
  assert.deepEqual(events, ['pause', 'resume']);
});

test('cancel tells the producer to stop; cancelling a finished body does nothing', () => {
  const a = recordingSource();
  const open = new PushBody({ source: a.source });
  open.cancel(new Error('client went away'));
  assert.deepEqual(a.events, ['cancel:client went away']);
  assert.equal(open.push(Buffer.from('x')), false);

  const b = recordingSource();
  const done = new PushBody({ source: b.source });
  done.end();
  done.cancel();
  assert.deepEqual(b.events, []);
});

test('a failed body reports the error to its reader, even one attached later', () => {
  const body = new PushBody();
  body.push(Buffer.from('partial'));
  body.fail(new Error('upstream reset'));
  const { sink, state } = collectingSink();
  body.read(sink);
  assert.equal(state.error?.message, 'upstream reset');
});

test('a body has exactly one reader', () => {
  const body = bufferBody('x');
  body.read(collectingSink().sink);
  assert.throws(() => body.read(collectingSink().sink), { code: 'HTTP_BODY_ALREADY_READ' });
});

test('the empty body is shared, ends at once and replays itself', async () => {
  assert.equal(EMPTY_BODY.size, 0);
  assert.equal(EMPTY_BODY.replay(), EMPTY_BODY);
  assert.equal(bufferBody(''), EMPTY_BODY);
  const { data } = await readBody(EMPTY_BODY);
  assert.equal(data.length, 0);
});

test('a replayable body can be re-read from the start after a partly consumed first attempt', async () => {
  const source = new PushBody({ size: 9 });
  const first = makeReplayable(source, 1024);
  const { sink, chunks } = collectingSink({ acceptFirst: 1 });
  first.read(sink);
  source.push(Buffer.from('abc'));
  source.push(Buffer.from('def'));
  assert.deepEqual(chunks, ['abc']);
  first.cancel(new Error('attempt 1 failed'));
  const second = first.replay()!;
  assert.equal(second.size, 9);
  source.push(Buffer.from('ghi'));
  source.end();
  assert.equal((await readBody(second)).data.toString(), 'abcdefghi');
});

test('two readers of a replayable body (a mirror) both get every byte, paced by the slower one', async () => {
  const { source: ctl, events } = recordingSource();
  const source = new PushBody({ source: ctl });
  const main = makeReplayable(source, 1024);
  const mirror = main.replay()!;
  const slow = collectingSink({ acceptFirst: 1 });
  main.read(slow.sink);
  const mirrorDone = readBody(mirror);
  source.push(Buffer.from('1'));
  source.push(Buffer.from('2'));
  assert.ok(events.includes('pause'), 'the slow reader holds the source back');
  slow.allow(100);
  main.resume();
  source.end();
  assert.deepEqual(slow.chunks, ['1', '2']);
  assert.equal((await mirrorDone).data.toString(), '12');
});

test('past its limit a body stops being replayable, while the current reader keeps streaming', async () => {
  const source = new PushBody();
  const body = makeReplayable(source, 4);
  const done = readBody(body);
  source.push(Buffer.from('abc'));
  assert.equal(body.replayable, true);
  source.push(Buffer.from('def'));
  assert.equal(body.replayable, false);
  assert.equal(body.replay(), undefined);
  source.push(Buffer.from('g'));
  source.end();
  assert.equal((await done).data.toString(), 'abcdefg');
});

test('readBody refuses more than its limit and cancels the body', async () => {
  const { source: ctl, events } = recordingSource();
  const body = new PushBody({ source: ctl });
  const p = readBody(body, { limitBytes: 3 });
  body.push(Buffer.from('abcd'));
  await assert.rejects(p, { code: 'HTTP_BODY_TOO_LARGE' });
  assert.ok(events.some((e) => e.startsWith('cancel')));
});
