// The seam to the control plane embedded in the mesh daemon (docs/runtime-contract.md §1), loaded by module path
// so that tests can run the daemon against a stand-in that keeps the same contract.

import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { KubeService, MeshConfig, Resource, ResourceRef } from '../api/types/index.js';
import type { Workload } from '../registry/model.js';
import { TrellisError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';

export interface ControlPlaneListen {
  hosts: string[];
  xdsPort: number;
  xdsTlsPort: number;
  apiPort: number;
}

export interface ControlPlaneOptions {
  stateDir: string;
  configDirs: string[];
  listen: ControlPlaneListen;
  meshConfig?: MeshConfig;
  logger: Logger;
  /**
   * Not in the contract: the runtime's view of the mesh, shaped as the dashboard API's RuntimeView
   * (status() with pods and addresses, subscribe()), for a control plane that wants to serve it.
   */
  runtime?: { status(): unknown; subscribe(listener: () => void): () => void };
}

/** A message about a refused or accepted config change (the config room's ConfigMessage, loosely). */
export interface ConfigChangeMessage {
  severity: string;
  message: string;
  code?: string;
  position?: { file: string; line: number; col: number };
  resource?: ResourceRef;
  path?: string;
}

export interface ConfigChange {
  ok: boolean;
  messages: ConfigChangeMessage[];
  events: { type: string; resource: Resource }[];
}

/** The part of the config store (src/config/store.ts) the runtime uses. */
export interface ControlPlaneConfig {
  list(filter?: { kind?: string; namespace?: string }): readonly Resource[];
  apply(resources: readonly Resource[]): Promise<ConfigChange>;
  delete(refs: readonly ResourceRef[]): Promise<ConfigChange>;
  watch(listener: (event: { type: string; resource: Resource }) => void): () => void;
}

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
}

export type RouteHandler = (ctx: RouteContext) => void | Promise<void>;

export interface ControlPlaneApi {
  route(method: string, path: string, handler: RouteHandler): unknown;
}

export interface ControlPlane {
  registry: {
    setServices(services: readonly KubeService[]): void;
    setWorkloads(workloads: readonly Workload[]): void;
  };
  addresses: { xds: string; xdsTls: string; api: string };
  caRootPem(): string;
  issueWorkloadToken(o: {
    namespace: string;
    serviceAccount: string;
    podName: string;
    podUid: string;
  }): string | Promise<string>;
  config: ControlPlaneConfig;
  api: ControlPlaneApi;
  stop(): Promise<void>;
}

export type StartControlPlane = (o: ControlPlaneOptions) => Promise<ControlPlane>;

/** The real control plane, compiled beside this file. */
export const DEFAULT_CONTROL_PLANE_MODULE = fileURLToPath(
  new URL('../controlplane/main.js', import.meta.url),
);

/** Imports `startControlPlane` from `modulePath` (default: src/controlplane/main.ts of this build). */
export async function loadControlPlane(
  modulePath = DEFAULT_CONTROL_PLANE_MODULE,
): Promise<StartControlPlane> {
  if (!existsSync(modulePath)) {
    throw new TrellisError(
      'NO_CONTROL_PLANE',
      `the control plane is not part of this build (${modulePath} is missing); build a checkout that has src/controlplane/main.ts`,
    );
  }
  const mod = (await import(pathToFileURL(modulePath).href)) as { startControlPlane?: StartControlPlane };
  if (typeof mod.startControlPlane !== 'function') {
    throw new TrellisError('NO_CONTROL_PLANE', `${modulePath} does not export startControlPlane`);
  }
  return mod.startControlPlane;
}
