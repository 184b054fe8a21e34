// DestinationRule: traffic policies, subsets and Istio's admission rules for them.

import type { FieldPath } from '../messages.js';
import {
  arrayOf,
  bool,
  type CheckContext,
  enumOf,
  int,
  mapOf,
  num,
  object,
  opt,
  refine,
  report,
  req,
  type Schema,
  str,
} from '../schema/schema.js';
import type {
  ClientTLSSettings,
  ConnectionPoolSettings,
  ConsistentHashLB,
  DestinationRuleSpec,
  LoadBalancerSettings,
  LocalityLoadBalancerSetting,
  OutlierDetection,
  PortTrafficPolicy,
  RetryBudget,
  Subset,
  TrafficPolicy,
  WorkloadSelector,
} from '../types/networking.js';
import { dnsLabel, duration, exportTo, labels, port, portSelector, selectorLabels } from './common.js';
import { wildcardDomainError } from './names.js';

function localityProblems(localities: string[]): string | undefined {
  for (const l of localities) {
    const stars = l.split('*').length - 1;
    if (stars > 1 || (stars === 1 && !l.endsWith('*')))
      return `locality "${l}": a wildcard "*" may appear once, at the end`;
    if (l.split('/').some((part) => part === ''))
      return `locality "${l}" must not contain an empty region/zone/subzone`;
  }
  return undefined;
}

export const localityLbSetting = (): Schema<LocalityLoadBalancerSetting> =>
  refine(
    object<LocalityLoadBalancerSetting>({
      distribute: opt(
        arrayOf(
          object<{ from: string; to: Record<string, number> }>({
            from: req(str({ nonEmpty: true })),
            to: req(mapOf(int({ min: 1, max: 100 }))),
          }),
        ),
      ),
      failover: opt(
        arrayOf(
          object<{ from: string; to: string }>({
            from: req(str({ nonEmpty: true })),
            to: req(str({ nonEmpty: true })),
          }),
        ),
      ),
      failoverPriority: opt(arrayOf(str({ nonEmpty: true }))),
      enabled: opt(bool()),
    }),
    (l, path, ctx) => {
      if (l.distribute?.length && l.failover?.length)
        report(ctx, path, 'cannot set both distribute and failover');
      l.distribute?.forEach((d, i) => {
        const total = Object.values(d.to).reduce((a, b) => a + b, 0);
        if (total !== 100)
          report(ctx, [...path, 'distribute', i, 'to'], `locality weights must add up to 100, got ${total}`);
        const p = localityProblems([d.from, ...Object.keys(d.to)]);
        if (p) report(ctx, [...path, 'distribute', i], p);
      });
      l.failover?.forEach((f, i) => {
        if (f.from === f.to)
          report(
            ctx,
            [...path, 'failover', i],
            `failover from and to must be different regions, got "${f.from}" twice`,
          );
        if (f.to.includes('*'))
          report(ctx, [...path, 'failover', i, 'to'], 'failover region must not contain "*"');
      });
    },
  );

const consistentHash = (): Schema<ConsistentHashLB> =>
  refine(
    object<ConsistentHashLB>(
      {
        httpHeaderName: opt(str({ nonEmpty: true })),
        httpCookie: opt(
          object<{ name: string; path?: string; ttl?: string }>({
            name: req(str({ nonEmpty: true })),
            path: opt(str()),
            ttl: opt(duration({ minMs: 0 })),
          }),
        ),
        useSourceIp: opt(bool()),
        httpQueryParameterName: opt(str({ nonEmpty: true })),
        ringHash: opt(object<{ minimumRingSize?: number }>({ minimumRingSize: opt(int({ min: 1 })) })),
        maglev: opt(object<{ tableSize?: number }>({ tableSize: opt(int({ min: 1 })) })),
        minimumRingSize: opt(int({ min: 1 }), 'use ringHash: {minimumRingSize: N}'),
      },
      {
        oneOf: [
          ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'],
          ['ringHash', 'maglev'],
        ],
      },
    ),
    (c, path, ctx) => {
      if (!c.httpHeaderName && !c.httpCookie && c.useSourceIp === undefined && !c.httpQueryParameterName) {
        report(
          ctx,
          path,
          'consistentHash needs a hash key: httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName',
          { code: 'MissingField' },
        );
      }
      const size = c.maglev?.tableSize;
      if (size !== undefined && !isPrime(size))
        report(ctx, [...path, 'maglev', 'tableSize'], `maglev tableSize must be a prime number, got ${size}`);
    },
  );

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

const loadBalancer = (): Schema<LoadBalancerSettings> =>
  object<LoadBalancerSettings>(
    {
      simple: opt(
        enumOf(['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST']),
      ),
      consistentHash: opt(consistentHash()),
      localityLbSetting: opt(localityLbSetting()),
      warmupDurationSecs: opt(duration()),
    },
    { oneOf: [['simple', 'consistentHash']] },
  );

export const connectionPool = (): Schema<ConnectionPoolSettings> =>
  refine(
    object<ConnectionPoolSettings>({
      tcp: opt(
        object<NonNullable<ConnectionPoolSettings['tcp']>>({
          maxConnections: opt(int({ min: 0 })),
          connectTimeout: opt(duration()),
          tcpKeepalive: opt(
            object<{ probes?: number; time?: string; interval?: string }>({
              probes: opt(int({ min: 0 })),
              time: opt(duration()),
              interval: opt(duration()),
            }),
          ),
          maxConnectionDuration: opt(duration()),
          idleTimeout: opt(duration()),
        }),
      ),
      http: opt(
        object<NonNullable<ConnectionPoolSettings['http']>>({
          http1MaxPendingRequests: opt(int({ min: 0 })),
          http2MaxRequests: opt(int({ min: 0 })),
          maxRequestsPerConnection: opt(int({ min: 0 })),
          maxRetries: opt(int({ min: 0 })),
          idleTimeout: opt(duration()),
          h2UpgradePolicy: opt(enumOf(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'])),
          useClientProtocol: opt(bool()),
          maxConcurrentStreams: opt(int({ min: 0 })),
        }),
      ),
    }),
    (c, path, ctx) => {
      if (!c.tcp && !c.http) report(ctx, path, 'connectionPool must set tcp or http settings');
    },
  );

const outlierDetection = (): Schema<OutlierDetection> =>
  object<OutlierDetection>({
    splitExternalLocalOriginErrors: opt(bool()),
    consecutiveLocalOriginFailures: opt(int({ min: 0 })),
    consecutiveGatewayErrors: opt(int({ min: 0 })),
    consecutive5xxErrors: opt(int({ min: 0 })),
    consecutiveErrors: opt(int({ min: 0 }), 'use consecutive5xxErrors'),
    interval: opt(duration()),
    baseEjectionTime: opt(duration()),
    maxEjectionPercent: opt(int({ min: 0, max: 100 })),
    minHealthPercent: opt(int({ min: 0, max: 100 })),
  });

export const clientTls = (): Schema<ClientTLSSettings> =>
  refine(
    object<ClientTLSSettings>({
      mode: opt(enumOf(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'])),
      clientCertificate: opt(str()),
      privateKey: opt(str()),
      caCertificates: opt(str()),
      credentialName: opt(str()),
      subjectAltNames: opt(arrayOf(str({ nonEmpty: true }))),
      sni: opt(str()),
      insecureSkipVerify: opt(bool()),
      caCrl: opt(str()),
    }),
    (t, path, ctx) => {
      const files = [t.clientCertificate, t.privateKey, t.caCertificates].some((f) => f);
      if (t.credentialName && files) {
        report(
          ctx,
          path,
          'cannot set clientCertificate, privateKey or caCertificates together with credentialName',
        );
      }
      if (t.mode === 'MUTUAL' && !t.credentialName) {
        if (!t.clientCertificate)
          report(
            ctx,
            [...path, 'clientCertificate'],
            'MUTUAL TLS needs clientCertificate (or credentialName)',
            { code: 'MissingField' },
          );
        if (!t.privateKey)
          report(ctx, [...path, 'privateKey'], 'MUTUAL TLS needs privateKey (or credentialName)', {
            code: 'MissingField',
          });
      }
      if (t.mode === 'ISTIO_MUTUAL' && (files || t.credentialName)) {
        report(
          ctx,
          path,
          'ISTIO_MUTUAL uses the mesh certificates: do not set certificates or credentialName',
        );
      }
      if (t.insecureSkipVerify && (t.caCertificates || t.subjectAltNames?.length)) {
        report(
          ctx,
          [...path, 'insecureSkipVerify'],
          'insecureSkipVerify cannot be combined with caCertificates or subjectAltNames',
        );
      }
    },
  );

const retryBudget = (): Schema<RetryBudget> =>
  refine(
    object<RetryBudget>({ percent: opt(num({ min: 0 })), minRetriesPerSecond: opt(int({ min: 0 })) }),
    (b, path, ctx) => {
      if (b.percent !== undefined && b.percent > 1) {
        report(
          ctx,
          [...path, 'percent'],
          `percent is a fraction of live requests: 0.2 means 20%, got ${b.percent}`,
          { fix: `write ${b.percent / 100}` },
        );
      }
    },
  );

function checkPolicyNotEmpty(p: object, path: FieldPath, ctx: CheckContext, what: string): void {
  if (Object.keys(p).length === 0) report(ctx, path, `${what} must set at least one field`);
}

const portTrafficPolicy = (): Schema<PortTrafficPolicy> =>
  refine(
    object<PortTrafficPolicy>({
      port: opt(portSelector()),
      loadBalancer: opt(loadBalancer()),
      connectionPool: opt(connectionPool()),
      outlierDetection: opt(outlierDetection()),
      tls: opt(clientTls()),
    }),
    (p, path, ctx) => {
      if (!p.port)
        report(ctx, [...path, 'port'], 'a port-level traffic policy needs port: {number: N}', {
          code: 'MissingField',
        });
      const { port: _port, ...rest } = p;
      checkPolicyNotEmpty(rest, path, ctx, 'a port-level traffic policy');
    },
  );

export const trafficPolicy = (): Schema<TrafficPolicy> =>
  refine(
    object<TrafficPolicy>({
      loadBalancer: opt(loadBalancer()),
      connectionPool: opt(connectionPool()),
      outlierDetection: opt(outlierDetection()),
      tls: opt(clientTls()),
      portLevelSettings: opt(arrayOf(portTrafficPolicy())),
      tunnel: opt(
        object<NonNullable<TrafficPolicy['tunnel']>>({
          protocol: opt(enumOf<string>(['CONNECT', 'POST'])),
          targetHost: req(str({ nonEmpty: true })),
          targetPort: req(port()),
        }),
      ),
      proxyProtocol: opt(object<{ version?: 'V1' | 'V2' }>({ version: opt(enumOf(['V1', 'V2'])) })),
      retryBudget: opt(retryBudget()),
    }),
    (p, path, ctx) => {
      checkPolicyNotEmpty(p, path, ctx, 'trafficPolicy');
      const seen = new Set<number>();
      p.portLevelSettings?.forEach((s, i) => {
        const n = s.port?.number;
        if (n === undefined) return;
        if (seen.has(n))
          report(
            ctx,
            [...path, 'portLevelSettings', i, 'port'],
            `port ${n} has more than one port-level policy`,
          );
        seen.add(n);
      });
    },
  );

const subset = (): Schema<Subset> =>
  object<Subset>({
    name: req(dnsLabel('subset name')),
    labels: opt(labels()),
    trafficPolicy: opt(trafficPolicy()),
  });

export const destinationRuleSpec = (): Schema<DestinationRuleSpec> =>
  refine(
    object<DestinationRuleSpec>({
      host: req(
        refine(str({ nonEmpty: true }), (h, path, ctx) => {
          const p = wildcardDomainError(h);
          if (p) report(ctx, path, p);
        }),
      ),
      trafficPolicy: opt(trafficPolicy()),
      subsets: opt(arrayOf(subset())),
      exportTo: opt(exportTo(false)),
      workloadSelector: opt(object<WorkloadSelector>({ matchLabels: opt(selectorLabels()) })),
    }),
    (dr, path, ctx) => {
      const names = new Map<string, number>();
      dr.subsets?.forEach((s, i) => {
        if (names.has(s.name))
          report(
            ctx,
            [...path, 'subsets', i, 'name'],
            `duplicate subset name "${s.name}" (also subsets[${names.get(s.name)}])`,
          );
        names.set(s.name, i);
      });
      if (dr.workloadSelector && dr.exportTo?.some((e) => e !== '.' && e !== ctx.namespace)) {
        report(
          ctx,
          [...path, 'exportTo'],
          'a DestinationRule with a workloadSelector can only be exported to its own namespace (".")',
        );
      }
    },
  );
