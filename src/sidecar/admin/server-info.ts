// `/server_info`: Envoy's ServerInfo (version, state, uptime, node) for the sidecar.

import type { JsonObject } from '@bufbuild/protobuf';
import type { AdminContext } from './context.js';

export function serverInfo(ctx: AdminContext, now: number): JsonObject {
  const b = ctx.bootstrap;
  const uptime = `${Math.max(0, Math.floor((now - ctx.startedAt) / 1000))}s`;
  return {
    version: `trellis/${ctx.version}`,
    state: ctx.state(),
    hot_restart_version: 'disabled',
    command_line_options: {
      concurrency: 1,
      drain_time: `${Math.round(b.drainTimeoutMs / 1000)}s`,
      drain_strategy: 'Immediate',
      service_cluster: b.node.cluster,
      service_node: b.node.id,
      log_level: ctx.logLevel(),
    },
    node: {
      id: b.node.id,
      cluster: b.node.cluster,
      metadata: b.node.metadata,
      locality: {
        region: b.node.locality.region,
        zone: b.node.locality.zone,
        sub_zone: b.node.locality.subZone,
      },
      user_agent_name: 'trellis',
      user_agent_version: ctx.version,
    },
    uptime_current_epoch: uptime,
    uptime_all_epochs: uptime,
  };
}
