// envoy.filters.http.fault (HTTPFault) → FaultConfig: fixed delays and HTTP/gRPC aborts with a percentage.

import { FaultDelaySchema } from '../../../xds/gen/envoy/extensions/filters/common/fault/v3/fault_pb.js';
import {
  FaultAbortSchema,
  type HTTPFault,
  HTTPFaultSchema,
} from '../../../xds/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import type { FaultConfig } from '../model.js';
import { fraction, ms } from './common.js';
import { fieldPolicy } from './fields.js';
import { at, type DecodeContext } from './problems.js';

const FAULT_FIELDS = fieldPolicy(HTTPFaultSchema, {
  handled: ['delay', 'abort'],
  // Runtime overrides: Trellis has no runtime layer, so the configured values always apply.
  ignored: [
    'delay_percent_runtime',
    'abort_percent_runtime',
    'delay_duration_runtime',
    'abort_http_status_runtime',
    'max_active_faults_runtime',
    'response_rate_limit_percent_runtime',
    'abort_grpc_status_runtime',
    'disable_downstream_cluster_stats',
  ],
});
const DELAY_FIELDS = fieldPolicy(FaultDelaySchema, { handled: ['fixed_delay', 'percentage'] });
const ABORT_FIELDS = fieldPolicy(FaultAbortSchema, { handled: ['http_status', 'grpc_status', 'percentage'] });

export function faultConfig(ctx: DecodeContext, f: HTTPFault, path: string): FaultConfig {
  FAULT_FIELDS.check(ctx, f, path);
  const out: FaultConfig = {};
  if (f.delay) {
    const p = at(path, 'delay');
    DELAY_FIELDS.check(ctx, f.delay, p);
    const spec = f.delay.faultDelaySecifier;
    const delayMs = spec.case === 'fixedDelay' ? ms(spec.value) : undefined;
    if (delayMs === undefined || delayMs < 0)
      ctx.report(at(p, 'fixed_delay'), 'a non-negative fixed_delay is required');
    else
      out.delay = {
        fixedDelayMs: delayMs,
        percentage: { fraction: fraction(ctx, f.delay.percentage, at(p, 'percentage'), 1) },
      };
  }
  if (f.abort) {
    const p = at(path, 'abort');
    ABORT_FIELDS.check(ctx, f.abort, p);
    const percentage = { fraction: fraction(ctx, f.abort.percentage, at(p, 'percentage'), 1) };
    const e = f.abort.errorType;
    if (e.case === 'httpStatus') {
      if (e.value < 200 || e.value >= 600)
        ctx.report(at(p, 'http_status'), `must be 200-599, got ${e.value}`);
      else out.abort = { httpStatus: e.value, percentage };
    } else if (e.case === 'grpcStatus') {
      out.abort = { grpcStatus: e.value, percentage };
    } else {
      ctx.report(p, 'an abort needs http_status or grpc_status');
    }
  }
  return out;
}
