import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { isTrellisError } from '../../shared/errors.js';
import { parsePrometheusText } from '../store/promtext.js';
import { MetricsRegistry } from './registry.js';

test('counter, gauge and histogram render valid exposition that parses back to the same values', () => {
  const r = new MetricsRegistry();
  const c = r.counter({
    name: 'reqs_total',
    help: 'Requests\nwith "quotes" and \\',
    labelNames: ['code', 'path'],
  });
  c.series(['200', '/a"b\\c\nd']).inc(3);
  c.series(['500', '/x']).inc();
  const g = r.gauge({ name: 'active', help: 'Active.', labelNames: [] });
  g.series([]).set(7);
  const h = r.histogram({ name: 'lat_ms', help: 'Latency.', labelNames: ['svc'], buckets: [1, 10, 100] });
  const s = h.series(['a']);
  for (const v of [0.5, 1, 5, 10, 50, 1000]) s.observe(v);

  const text = r.render();
  assert.match(text, /# HELP reqs_total Requests\\nwith "quotes" and \\\\\n# TYPE reqs_total counter\n/);
  const parsed = parsePrometheusText(text);
  assert.equal(parsed.types.get('lat_ms'), 'histogram');
  assert.equal(parsed.help.get('reqs_total'), 'Requests\nwith "quotes" and \\');
  const byKey = new Map(parsed.samples.map((x) => [`${x.name}${JSON.stringify(x.labels)}`, x.value]));
  assert.equal(byKey.get('reqs_total{"code":"200","path":"/a\\"b\\\\c\\nd"}'), 3);
  assert.equal(byKey.get('active{}'), 7);
  // le buckets are cumulative and inclusive of the bound: 0.5,1 | 5,10 | 50 | 1000
  assert.equal(byKey.get('lat_ms_bucket{"svc":"a","le":"1"}'), 2);
  assert.equal(byKey.get('lat_ms_bucket{"svc":"a","le":"10"}'), 4);
  assert.equal(byKey.get('lat_ms_bucket{"svc":"a","le":"100"}'), 5);
  assert.equal(byKey.get('lat_ms_bucket{"svc":"a","le":"+Inf"}'), 6);
  assert.equal(byKey.get('lat_ms_sum{"svc":"a"}'), 1066.5);
  assert.equal(byKey.get('lat_ms_count{"svc":"a"}'), 6);
});

test('a label set resolves to the same handle, and the wrong arity is a coded error naming the metric', () => {
  const r = new MetricsRegistry();
  const c = r.counter({ name: 'x_total', help: 'x', labelNames: ['a', 'b'] });
  assert.equal(c.series(['1', '2']), c.series(['1', '2']));
  assert.throws(
    () => c.series(['1']),
    (e) => isTrellisError(e, 'TELEMETRY_LABELS') && /x_total takes 2 label values/.test(e.message),
  );
  assert.throws(() => r.counter({ name: 'x_total', help: '', labelNames: [] }), /already registered/);
  assert.throws(
    () => r.counter({ name: 'bad-name', help: '', labelNames: [] }),
    /not a valid Prometheus name/,
  );
});

test('idle series expire after the configured time; active ones stay; a held handle comes back on use', () => {
  const clock = new ManualClock();
  const r = new MetricsRegistry({ clock, seriesIdleMs: 60_000, sweepIntervalMs: 10_000 });
  const c = r.counter({ name: 'c_total', help: 'c', labelNames: ['peer'] });
  const idle = c.series(['idle']);
  const busy = c.series(['busy']);
  idle.inc();
  r.start();
  for (let t = 0; t < 9; t++) {
    busy.inc();
    clock.advance(10_000);
  }
  r.stop();
  const text = r.render();
  assert.doesNotMatch(text, /peer="idle"/, 'idle series is gone after 60 s without updates');
  assert.match(text, /c_total\{peer="busy"\} 9/);
  assert.equal(r.expired, 1);
  // The sidecar still holds the handle: the next update makes it visible again, keeping its total.
  idle.inc();
  assert.match(r.render(), /c_total\{peer="idle"\} 2/);
});

test('a family stops at its series cap, counts the overflow, and admits new series once room frees up', () => {
  const clock = new ManualClock();
  const r = new MetricsRegistry({ clock, seriesIdleMs: 1000 });
  const c = r.counter({ name: 'capped_total', help: 'c', labelNames: ['id'], maxSeries: 2 });
  c.series(['a']).inc();
  c.series(['b']).inc();
  const third = c.series(['c']);
  third.inc(5);
  assert.equal(c.size, 2);
  assert.equal(c.overflowed, 1);
  assert.doesNotMatch(r.render(), /id="c"/);
  // a and b go idle and expire; c's next update gets in with everything it counted.
  r.sweep();
  clock.advance(1000);
  r.sweep();
  assert.equal(c.size, 0);
  third.inc();
  assert.match(r.render(), /capped_total\{id="c"\} 6/);
});

test('gauges do not expire by default (a gauge that stays flat is still true)', () => {
  const clock = new ManualClock();
  const r = new MetricsRegistry({ clock, seriesIdleMs: 1000 });
  r.gauge({ name: 'g', help: 'g', labelNames: [] }).series([]).set(1);
  r.sweep();
  clock.advance(5000);
  r.sweep();
  assert.match(r.render(), /^g 1$/m);
});
