// Sidecar: ingress and egress listeners, the hosts a workload may reach, and Istio's rules for them.

import { arrayOf, enumOf, object, opt, refine, report, req, type Schema, str } from '../schema/schema.js';
import type { IstioEgressListener, IstioIngressListener, SidecarSpec } from '../types/networking.js';
import { selectorLabels } from './common.js';
import { connectionPool } from './destination-rule.js';
import { istioPort, serverTls } from './gateway.js';
import { sidecarHostProblem } from './hosts.js';
import { isIpAddress } from './names.js';

const CAPTURE = ['DEFAULT', 'IPTABLES', 'NONE'] as const;

const bindAddress = () =>
  refine(str(), (b, path, ctx) => {
    if (!b.startsWith('unix://') && !isIpAddress(b))
      report(ctx, path, `bind "${b}" must be an IP address or unix:///path`);
  });

function endpointProblem(e: string): string | undefined {
  if (e.startsWith('unix://'))
    return e.length > 'unix://'.length ? undefined : 'defaultEndpoint unix:// needs a path';
  const m = /^(.*):(\d+)$/.exec(e);
  if (!m) return `defaultEndpoint "${e}" must be 127.0.0.1:<port>, 0.0.0.0:<port>, :<port> or unix:///path`;
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  if (host && !['127.0.0.1', '0.0.0.0', '::1', '::', 'localhost'].includes(host)) {
    return `defaultEndpoint "${e}" must point at the workload itself (127.0.0.1, 0.0.0.0 or [::1])`;
  }
  if (port < 1 || port > 65535) return `defaultEndpoint port ${port} must be 1-65535`;
  return undefined;
}

const ingress = (): Schema<IstioIngressListener> =>
  object<IstioIngressListener>({
    port: req(istioPort()),
    bind: opt(bindAddress()),
    captureMode: opt(enumOf(CAPTURE)),
    defaultEndpoint: opt(
      refine(str(), (e, path, ctx) => {
        const p = endpointProblem(e);
        if (p) report(ctx, path, p);
      }),
    ),
    tls: opt(serverTls()),
    connectionPool: opt(connectionPool()),
  });

const egress = (): Schema<IstioEgressListener> =>
  object<IstioEgressListener>({
    port: opt(istioPort()),
    bind: opt(bindAddress()),
    captureMode: opt(enumOf(CAPTURE)),
    hosts: req(
      refine(arrayOf(str(), { minItems: 1 }), (hosts, path, ctx) => {
        hosts.forEach((h, i) => {
          const p = sidecarHostProblem(h);
          if (p) report(ctx, [...path, i], p);
        });
      }),
    ),
  });

export const sidecarSpec = (): Schema<SidecarSpec> =>
  refine(
    object<SidecarSpec>({
      workloadSelector: opt(object<{ labels?: Record<string, string> }>({ labels: opt(selectorLabels()) })),
      ingress: opt(arrayOf(ingress())),
      egress: opt(arrayOf(egress())),
      outboundTrafficPolicy: opt(
        object<{ mode?: 'REGISTRY_ONLY' | 'ALLOW_ANY' }>({
          mode: opt(enumOf(['REGISTRY_ONLY', 'ALLOW_ANY'])),
        }),
      ),
      inboundConnectionPool: opt(connectionPool()),
    }),
    (s, path, ctx) => {
      if (!s.ingress?.length && !s.egress?.length && !s.outboundTrafficPolicy && !s.inboundConnectionPool) {
        report(
          ctx,
          path,
          'a Sidecar needs at least one of egress, ingress, outboundTrafficPolicy or inboundConnectionPool',
        );
      }
      const ingressPorts = new Map<number, number>();
      s.ingress?.forEach((l, i) => {
        const prev = ingressPorts.get(l.port.number);
        if (prev !== undefined)
          report(
            ctx,
            [...path, 'ingress', i, 'port', 'number'],
            `port ${l.port.number} is already used by ingress[${prev}]`,
          );
        ingressPorts.set(l.port.number, i);
      });
      const egressPorts = new Map<number, number>();
      s.egress?.forEach((l, i) => {
        if (!l.port) {
          if (i !== s.egress!.length - 1) {
            report(
              ctx,
              [...path, 'egress', i],
              'the egress listener without a port (the catch-all) must be the last one',
            );
          }
          return;
        }
        const prev = egressPorts.get(l.port.number);
        if (prev !== undefined)
          report(
            ctx,
            [...path, 'egress', i, 'port', 'number'],
            `port ${l.port.number} is already used by egress[${prev}]`,
          );
        egressPorts.set(l.port.number, i);
      });
    },
  );
