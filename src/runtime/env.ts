// A container's environment and command line: Kubernetes' `$(VAR)` expansion over the env and runtime variables.

import { delimiter, dirname, join } from 'node:path';
import type { Container, EnvVar } from '../api/types/index.js';

/**
 * Kubernetes' rule: `$(VAR)` becomes the variable's value when it is defined, and stays as written otherwise;
 * `$$(VAR)` escapes to a literal `$(VAR)`.
 */
export function expandVars(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => {
    if (whole === '$$') return '$';
    const v = name === undefined ? undefined : vars[name];
    return v ?? whole;
  });
}

export interface RuntimeVars {
  trellisHome: string;
  podName: string;
  namespace: string;
  instanceIp: string;
  serviceAccount: string;
  /** Host mode only: the app's own address and its sidecar's explicit proxy. */
  bindAddress?: string;
  httpProxy?: string;
}

export function runtimeVariables(v: RuntimeVars): Record<string, string> {
  const out: Record<string, string> = {
    TRELLIS_HOME: v.trellisHome,
    POD_NAME: v.podName,
    HOSTNAME: v.podName,
    POD_NAMESPACE: v.namespace,
    INSTANCE_IP: v.instanceIp,
    SERVICE_ACCOUNT: v.serviceAccount,
  };
  if (v.bindAddress) out.BIND_ADDRESS = v.bindAddress;
  if (v.httpProxy) {
    out.HTTP_PROXY = v.httpProxy;
    out.http_proxy = v.httpProxy;
  }
  return out;
}

/** Values from `fieldRef` that a pod can know about itself. */
function fieldValue(
  path: string,
  vars: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): string | undefined {
  switch (path) {
    case 'metadata.name':
      return vars.POD_NAME;
    case 'metadata.namespace':
      return vars.POD_NAMESPACE;
    case 'status.podIP':
      return vars.INSTANCE_IP;
    case 'spec.serviceAccountName':
      return vars.SERVICE_ACCOUNT;
  }
  const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
  return label ? labels[label[1]!] : undefined;
}

export interface ContainerEnvOptions {
  container: Container;
  runtime: Record<string, string>;
  labels: Readonly<Record<string, string>>;
  configMaps: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** The daemon's PATH, kept after the tools folder so `node`, `sh` and friends resolve. */
  hostPath: string;
}

/**
 * Env in Kubernetes' order: runtime variables first, then the container's `env` in order, each entry expanded
 * against what precedes it. PATH starts with `$(TRELLIS_HOME)/examples/tools/bin` and node's folder.
 */
export function containerEnv(o: ContainerEnvOptions): Record<string, string> {
  const env: Record<string, string> = {
    PATH: [
      join(o.runtime.TRELLIS_HOME ?? '', 'examples/tools/bin'),
      dirname(process.execPath),
      o.hostPath,
    ].join(delimiter),
    HOME: process.env.HOME ?? '/',
    ...o.runtime,
  };
  for (const e of o.container.env ?? ([] as EnvVar[])) {
    if (e.value !== undefined) env[e.name] = expandVars(e.value, env);
    else if (e.valueFrom?.fieldRef) {
      const v = fieldValue(e.valueFrom.fieldRef.fieldPath, env, o.labels);
      if (v !== undefined) env[e.name] = v;
    } else if (e.valueFrom?.configMapKeyRef) {
      const ref = e.valueFrom.configMapKeyRef;
      const v = o.configMaps.get(ref.name)?.[ref.key];
      if (v !== undefined) env[e.name] = v;
    }
  }
  return env;
}

/** Kubernetes' `command` + `args` (no shell), expanded; without a command there is nothing to run locally. */
export function containerArgv(c: Container, env: Readonly<Record<string, string>>): string[] {
  return [...(c.command ?? []), ...(c.args ?? [])].map((a) => expandVars(a, env));
}
