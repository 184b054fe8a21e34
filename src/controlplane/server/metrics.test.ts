// Unit tests: pilot metric names, buckets and Prometheus text.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLUSTER_TYPE, ENDPOINT_TYPE } from '../../xds/type-urls.js';
import { MemoryMetrics, metricType, XDS_METRICS } from './metrics.js';

test('metrics print as Prometheus text under Istio pilot names and buckets', () => {
  const m = new MemoryMetrics();
  m.add(XDS_METRICS.pushes, 1, { type: metricType(CLUSTER_TYPE) });
  m.add(XDS_METRICS.pushes, 2, { type: metricType(ENDPOINT_TYPE) });
  m.set(XDS_METRICS.connected, 3);
  m.observe(XDS_METRICS.convergence, 0.2);
  m.observe(XDS_METRICS.convergence, 4);
  const text = m.toPrometheus();
  assert.match(text, /^# TYPE pilot_xds_pushes counter$/m);
  assert.match(text, /^pilot_xds_pushes\{type="cds"\} 1$/m);
  assert.match(text, /^pilot_xds_pushes\{type="eds"\} 2$/m);
  assert.match(text, /^pilot_xds 3$/m);
  assert.match(text, /^pilot_proxy_convergence_time_bucket\{le="0.1"\} 0$/m);
  assert.match(text, /^pilot_proxy_convergence_time_bucket\{le="0.5"\} 1$/m);
  assert.match(text, /^pilot_proxy_convergence_time_bucket\{le="5"\} 2$/m);
  assert.match(text, /^pilot_proxy_convergence_time_bucket\{le="\+Inf"\} 2$/m);
  assert.match(text, /^pilot_proxy_convergence_time_count 2$/m);
  assert.equal(m.histogram('pilot_proxy_convergence_time')?.sum, 4.2);
});
