// envoy.filters.http.fault: delay then abort, by percentage; the route's config replaces the listener's.

import type { FaultConfig, HttpFilterConfig } from '../../../config/model.js';
import type { HeaderList } from '../../headers.js';
import type { Handler } from '../../message.js';
import { pipelineReply } from '../local-reply.js';
import { sleep } from '../router/deadline.js';
import { streamOf } from '../stream.js';
import type { Filter, FilterEnv } from './types.js';

/** Header-controlled faults (`x-envoy-fault-*`): only when the operator turns them on (Envoy's header_abort/delay). */
export interface FaultHeaderControl {
  abort?: boolean;
  delay?: boolean;
}

interface ActiveFault {
  delayMs: number | undefined;
  abortStatus: number | undefined;
  abortGrpc: number | undefined;
}

function roll(fraction: number, random: () => number): boolean {
  if (fraction >= 1) return true;
  if (fraction <= 0) return false;
  return random() < fraction;
}

function headerPercent(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  return Math.min(100, Number(v.trim())) / 100;
}

/** Decides which faults apply to this request (Envoy evaluates delay and abort independently). */
function decide(
  config: FaultConfig,
  headers: HeaderList,
  control: FaultHeaderControl,
  random: () => number,
): ActiveFault {
  const out: ActiveFault = { delayMs: undefined, abortStatus: undefined, abortGrpc: undefined };
  if (config.delay) {
    let ms: number | undefined = config.delay.fixedDelayMs;
    let fraction = config.delay.percentage.fraction;
    if (control.delay) {
      const h = headers.get('x-envoy-fault-delay-request');
      if (h !== undefined && /^\d+$/.test(h.trim())) ms = Number(h.trim());
      fraction = headerPercent(headers.get('x-envoy-fault-delay-request-percentage')) ?? fraction;
    }
    if (ms !== undefined && ms > 0 && roll(fraction, random)) out.delayMs = ms;
  }
  if (config.abort) {
    let status = config.abort.httpStatus;
    let grpc = config.abort.grpcStatus;
    let fraction = config.abort.percentage.fraction;
    if (control.abort) {
      const h = headers.get('x-envoy-fault-abort-request');
      if (h !== undefined && /^\d{3}$/.test(h.trim())) status = Number(h.trim());
      const g = headers.get('x-envoy-fault-abort-grpc-request');
      if (g !== undefined && /^\d+$/.test(g.trim())) grpc = Number(g.trim());
      fraction = headerPercent(headers.get('x-envoy-fault-abort-request-percentage')) ?? fraction;
    }
    if ((status !== undefined || grpc !== undefined) && roll(fraction, random)) {
      out.abortStatus = status;
      out.abortGrpc = grpc;
    }
  }
  return out;
}

/**
 * Delay (flag DI) then abort (flag FI): a gRPC abort answers with its gRPC status, an HTTP abort of a gRPC
 * request is mapped to one. Stats `http.<prefix>.fault.delays_injected` / `aborts_injected`.
 */
export function faultFilter(
  config: HttpFilterConfig,
  env: FilterEnv,
  control: FaultHeaderControl = {},
): Filter {
  const listener = config.kind === 'fault' ? config.config : {};
  const scope = env.deps.telemetry.stats.scope('http', env.hcm.statPrefix, 'envoy_http_conn_manager_prefix');
  const delays = scope.counter('fault.delays_injected');
  const aborts = scope.counter('fault.aborts_injected');
  return (next: Handler): Handler => {
    const inject = async (req: Parameters<Handler>[0], ctx: Parameters<Handler>[1], fault: FaultConfig) => {
      const s = streamOf(ctx)!;
      const f = decide(fault, req.headers, control, env.random);
      if (f.delayMs !== undefined) {
        s.setFlag('DI');
        delays.inc();
        await sleep(env.clock, f.delayMs, s.signal);
      }
      if (f.abortStatus !== undefined || f.abortGrpc !== undefined) {
        aborts.inc();
        const route = s.route?.name ?? '(none)';
        const where = s.route?.configPath ? ` from ${s.route.configPath}` : '';
        return pipelineReply(s, {
          status: f.abortStatus ?? 200,
          grpcStatus: f.abortGrpc,
          flag: 'FI',
          reason: `fault injected by route "${route}"${where}: abort${f.abortGrpc !== undefined ? ` with gRPC status ${f.abortGrpc}` : ` with ${f.abortStatus}`}`,
          body: 'fault filter abort',
          details: 'fault_filter_abort',
        });
      }
      return next(req, ctx);
    };
    // No fault configured for the route: pass on without an extra async frame.
    return (req, ctx) => {
      const fault = streamOf(ctx)?.route?.fault ?? listener;
      if (fault.delay === undefined && fault.abort === undefined) return next(req, ctx);
      return inject(req, ctx, fault);
    };
  };
}
