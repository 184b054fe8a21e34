// ServiceEntry and WorkloadEntry: hosts, addresses, ports, endpoints and the resolution rules tying them together.

import type { FieldPath } from '../messages.js';
import {
  arrayOf,
  type CheckContext,
  enumOf,
  int,
  mapOf,
  object,
  opt,
  refine,
  report,
  req,
  type Schema,
  str,
} from '../schema/schema.js';
import type { ServiceEntrySpec, ServicePort, WorkloadEntrySpec } from '../types/networking.js';
import { cidr, exportTo, istioProtocol, labels, port, selectorLabels } from './common.js';
import {
  fqdnError,
  isDns1123Label,
  isHttpProtocolName,
  isIpAddress,
  isTlsProtocol,
  wildcardDomainError,
} from './names.js';

const UNIX = 'unix://';

const portName = () =>
  refine(str({ nonEmpty: true, describe: 'a port name' }), (n, path, ctx) => {
    if (!isDns1123Label(n))
      report(ctx, path, `port name "${n}" must be a lowercase DNS label (e.g. "http", "https-api")`);
  });

const workloadEntry = (): Schema<WorkloadEntrySpec> =>
  object<WorkloadEntrySpec>({
    address: opt(str()),
    ports: opt(
      refine(mapOf(port()), (ports, path, ctx) => {
        for (const k of Object.keys(ports)) {
          if (!isDns1123Label(k))
            report(ctx, [...path, k], `port name "${k}" must be a lowercase DNS label`, { atKey: true });
        }
      }),
    ),
    labels: opt(labels()),
    network: opt(str()),
    locality: opt(
      refine(str(), (l, path, ctx) => {
        if (l.split('/').length > 3 || l.split('/').some((p) => p === ''))
          report(ctx, path, `locality "${l}" must be region, region/zone or region/zone/subzone`);
      }),
    ),
    weight: opt(int({ min: 0 })),
    serviceAccount: opt(str()),
  });

function addressProblem(address: string): string | undefined {
  if (address.startsWith(UNIX)) {
    const path = address.slice(UNIX.length);
    return path.startsWith('/') || path.startsWith('@')
      ? undefined
      : `unix address "${address}" must be an absolute path`;
  }
  if (isIpAddress(address)) return undefined;
  return fqdnError(address)
    ? `address "${address}" is not an IP address, a host name or unix:///path`
    : undefined;
}

export const workloadEntrySpec = (): Schema<WorkloadEntrySpec> =>
  refine(workloadEntry(), (we, path, ctx) => {
    if (!we.address && !we.network) {
      report(ctx, [...path, 'address'], 'address is required (unless network is set)', {
        code: 'MissingField',
      });
    } else if (we.address) {
      const p = addressProblem(we.address);
      if (p) report(ctx, [...path, 'address'], p);
    }
  });

const servicePort = (): Schema<ServicePort> =>
  object<ServicePort>({
    number: req(port()),
    protocol: opt(istioProtocol()),
    name: req(portName()),
    targetPort: opt(port()),
  });

function checkEndpoints(se: ServiceEntrySpec, path: FieldPath, ctx: CheckContext): void {
  const resolution = se.resolution ?? 'NONE';
  const portNames = new Set((se.ports ?? []).map((p) => p.name));
  const endpoints = se.endpoints ?? [];
  endpoints.forEach((ep, i) => {
    const at = [...path, 'endpoints', i];
    const address = ep.address ?? '';
    if (!address && !ep.network)
      report(ctx, [...at, 'address'], 'endpoint address is required', { code: 'MissingField' });
    if (address.startsWith(UNIX)) {
      if (resolution !== 'STATIC')
        report(ctx, [...at, 'address'], 'unix:// endpoints need resolution STATIC');
      if (ep.ports && Object.keys(ep.ports).length)
        report(ctx, [...at, 'ports'], `unix endpoint ${address} must not have ports`);
      const p = addressProblem(address);
      if (p) report(ctx, [...at, 'address'], p);
    } else if (address) {
      if (resolution === 'STATIC' && !isIpAddress(address)) {
        report(
          ctx,
          [...at, 'address'],
          `resolution STATIC needs IP addresses, got "${address}" (use resolution DNS for host names)`,
        );
      } else if (!isIpAddress(address) && fqdnError(address)) {
        report(
          ctx,
          [...at, 'address'],
          `endpoint address "${address}" is not a valid host name or IP address`,
        );
      }
    }
    for (const name of Object.keys(ep.ports ?? {})) {
      if (!portNames.has(name)) {
        report(
          ctx,
          [...at, 'ports', name],
          `endpoint port "${name}" is not one of the ServiceEntry's ports (${[...portNames].join(', ') || 'none'})`,
          { atKey: true },
        );
      }
    }
  });
  if (resolution === 'NONE' && endpoints.length) {
    report(
      ctx,
      [...path, 'endpoints'],
      'resolution NONE takes no endpoints (traffic goes to the address the client dialled)',
    );
  }
  if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) {
    report(ctx, [...path, 'endpoints'], 'resolution DNS_ROUND_ROBIN takes at most one endpoint');
  }
  if ((resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && endpoints.length === 0) {
    se.hosts.forEach((h, i) => {
      if (h.includes('*'))
        report(
          ctx,
          [...path, 'hosts', i],
          `resolution ${resolution} without endpoints resolves the hosts themselves, so "${h}" cannot be a wildcard`,
        );
    });
  }
  if (resolution === 'STATIC' && endpoints.length === 0 && !se.workloadSelector) {
    report(
      ctx,
      [...path, 'endpoints'],
      'resolution STATIC with no endpoints and no workloadSelector: the service has no endpoints to send traffic to',
      { severity: 'warning' },
    );
  }
}

export const serviceEntrySpec = (): Schema<ServiceEntrySpec> =>
  refine(
    object<ServiceEntrySpec>({
      hosts: req(
        refine(arrayOf(str(), { minItems: 1 }), (hosts, path, ctx) => {
          hosts.forEach((h, i) => {
            if (h === '*') report(ctx, [...path, i], 'host "*" is not allowed in a ServiceEntry');
            else {
              const p = wildcardDomainError(h);
              if (p) report(ctx, [...path, i], p);
            }
          });
        }),
      ),
      addresses: opt(arrayOf(cidr())),
      ports: opt(arrayOf(servicePort())),
      location: opt(enumOf(['MESH_EXTERNAL', 'MESH_INTERNAL'])),
      resolution: opt(enumOf(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'])),
      endpoints: opt(arrayOf(workloadEntry())),
      workloadSelector: opt(object<{ labels?: Record<string, string> }>({ labels: opt(selectorLabels()) })),
      exportTo: opt(exportTo(true)),
      subjectAltNames: opt(arrayOf(str({ nonEmpty: true }))),
    }),
    (se, path, ctx) => {
      if (se.workloadSelector && se.endpoints) {
        report(ctx, [...path, 'workloadSelector'], 'set either workloadSelector or endpoints, not both', {
          atKey: true,
        });
      }
      const resolution = se.resolution ?? 'NONE';
      se.addresses?.forEach((a, i) => {
        if (a.includes('/') && resolution !== 'NONE' && resolution !== 'STATIC') {
          report(
            ctx,
            [...path, 'addresses', i],
            `CIDR addresses are only allowed with resolution NONE or STATIC, not ${resolution}`,
          );
        }
      });
      const names = new Map<string, number>();
      const numbers = new Map<number, number>();
      se.ports?.forEach((p, i) => {
        if (names.has(p.name))
          report(
            ctx,
            [...path, 'ports', i, 'name'],
            `port name "${p.name}" is already used by ports[${names.get(p.name)}]`,
          );
        if (numbers.has(p.number))
          report(
            ctx,
            [...path, 'ports', i, 'number'],
            `port ${p.number} is already defined by ports[${numbers.get(p.number)}]`,
          );
        names.set(p.name, i);
        numbers.set(p.number, i);
      });
      checkEndpoints(se, path, ctx);
      // Plain TCP carries no host name, so several hosts on one TCP port cannot be told apart.
      if (resolution !== 'NONE' && se.hosts.length > 1) {
        const opaque = (se.ports ?? []).filter(
          (p) => !p.protocol || (!isHttpProtocolName(p.protocol) && !isTlsProtocol(p.protocol)),
        );
        if (opaque.length)
          report(
            ctx,
            [...path, 'hosts'],
            `several hosts cannot share the non-HTTP, non-TLS port ${opaque[0]!.number}: nothing in plain TCP says which host is meant`,
          );
      }
    },
  );
