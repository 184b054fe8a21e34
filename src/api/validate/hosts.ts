// Host entries of Gateways and Sidecars: `namespace/dnsName`, with the wildcards Istio allows in each.

import { isDns1123Label, isIpAddress, wildcardDomainError } from './names.js';

function hostnamePartProblem(host: string, gateway: boolean): string | undefined {
  if (host !== '*' && !host.includes('.') && !(gateway && isIpAddress(host))) {
    return `short name "${host}" is not allowed here; write a fully qualified name such as "${host}.default.svc.cluster.local" or "*"`;
  }
  const p = wildcardDomainError(host);
  if (p && !(gateway && isIpAddress(host))) return p;
  return undefined;
}

/** Gateway `servers[].hosts`: `dnsName` or `namespace/dnsName`, namespace `*`, `.` or a name. */
export function gatewayHostProblem(host: string): string | undefined {
  const slash = host.indexOf('/');
  if (slash < 0) return hostnamePartProblem(host, true);
  const ns = host.slice(0, slash);
  const name = host.slice(slash + 1);
  if (!ns || !name) return `host "${host}": namespace and dnsName cannot be empty`;
  if (ns !== '*' && ns !== '.' && !isDns1123Label(ns))
    return `host "${host}": invalid namespace "${ns}" (use "*", "." or a namespace name)`;
  return hostnamePartProblem(name, true);
}

/** Sidecar `egress[].hosts`: always `namespace/dnsName`, namespace `*`, `.`, `~` or a name. */
export function sidecarHostProblem(host: string): string | undefined {
  const slash = host.indexOf('/');
  if (slash < 0)
    return `host "${host}" must be of the form namespace/dnsName, e.g. "./*" or "istio-system/*"`;
  const ns = host.slice(0, slash);
  const name = host.slice(slash + 1);
  if (!ns || !name) return `host "${host}": namespace and dnsName cannot be empty`;
  if (ns !== '*' && ns !== '.' && ns !== '~' && !isDns1123Label(ns)) {
    return `host "${host}": invalid namespace "${ns}" (use "*", ".", "~" or a namespace name)`;
  }
  return hostnamePartProblem(name, false);
}
