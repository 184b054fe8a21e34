// What the admin endpoints read from the running sidecar; the sidecar implements it, tests can too.

import type { LogLevel } from '../../shared/log.js';
import type { WorkloadSecrets } from '../identity/secrets.js';
import type { BoundListener } from '../listener/listener-manager.js';
import type { Bootstrap } from '../runtime/bootstrap.js';
import type { SidecarResourceTypes } from '../runtime/config-source.js';
import type { SidecarTelemetrySinks } from '../runtime/telemetry.js';
import type { ManagedCluster } from '../upstream/cluster/cluster.js';
import type { ResourceKind, ResourceState } from '../xds-client/types.js';
import type { XdsClientStatus } from '../xds-client/xds-client.js';

/** Envoy's server states, as `/server_info` and `/ready` name them. */
export type ServerState = 'PRE_INITIALIZING' | 'INITIALIZING' | 'LIVE' | 'DRAINING';

export interface AdminContext {
  readonly bootstrap: Bootstrap;
  /** Wall-clock ms when the process started. */
  readonly startedAt: number;
  readonly version: string;
  readonly telemetry: SidecarTelemetrySinks;
  state(): ServerState;
  /** First complete config applied, and the workload certificate present when the proxy has an identity. */
  ready(): boolean;
  /** The raw resources the xDS client accepted (active or warming), for /config_dump. */
  resources<K extends ResourceKind>(kind: K): ResourceState<SidecarResourceTypes[K]>[];
  xdsStatus(): XdsClientStatus | undefined;
  secrets(): WorkloadSecrets | undefined;
  clusters(): readonly ManagedCluster[];
  listeners(): BoundListener[];
  /** Stops accepting and drains (graceful: keep accepting with `connection: close` for the drain time first). */
  drainListeners(opts: { graceful: boolean }): void;
  /** Shuts down now (cleanly: logs flushed, sockets closed) and exits. */
  quit(): void;
  logLevel(): LogLevel;
  setLogLevel(level: LogLevel): void;
}
