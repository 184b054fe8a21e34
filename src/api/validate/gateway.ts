// Gateway: servers, ports, hosts and TLS settings, with Istio's admission rules.

import {
  arrayOf,
  bool,
  enumOf,
  object,
  opt,
  refine,
  report,
  req,
  type Schema,
  str,
} from '../schema/schema.js';
import type { GatewaySpec, Port, Server, ServerTLSSettings } from '../types/networking.js';
import { istioProtocol, port, selectorLabels } from './common.js';
import { gatewayHostProblem } from './hosts.js';
import { isHttpProtocolName, isTlsProtocol } from './names.js';

const TLS_VERSIONS = ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] as const;

export const istioPort = (): Schema<Port> =>
  object<Port>({
    number: req(port()),
    protocol: req(istioProtocol()),
    name: req(str({ nonEmpty: true, describe: 'a port name' })),
    targetPort: opt(port()),
  });

export const serverTls = (): Schema<ServerTLSSettings> =>
  refine(
    object<ServerTLSSettings>({
      httpsRedirect: opt(bool()),
      mode: opt(
        enumOf(['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL']),
      ),
      serverCertificate: opt(str()),
      privateKey: opt(str()),
      caCertificates: opt(str()),
      credentialName: opt(str()),
      subjectAltNames: opt(arrayOf(str({ nonEmpty: true }))),
      minProtocolVersion: opt(enumOf(TLS_VERSIONS)),
      maxProtocolVersion: opt(enumOf(TLS_VERSIONS)),
      cipherSuites: opt(arrayOf(str({ nonEmpty: true }))),
    }),
    (t, path, ctx) => {
      const files = Boolean(t.serverCertificate || t.privateKey || t.caCertificates);
      if (t.mode === 'ISTIO_MUTUAL') {
        if (files || t.credentialName)
          report(
            ctx,
            path,
            'ISTIO_MUTUAL uses the mesh certificates: do not set certificates or credentialName',
          );
        return;
      }
      if (t.mode === 'SIMPLE' || t.mode === 'MUTUAL' || t.mode === 'OPTIONAL_MUTUAL') {
        if (t.credentialName) {
          if (t.serverCertificate || t.privateKey)
            report(ctx, path, 'set either credentialName or serverCertificate/privateKey, not both');
        } else {
          if (!t.serverCertificate)
            report(
              ctx,
              [...path, 'serverCertificate'],
              `${t.mode} TLS needs serverCertificate (or credentialName)`,
              { code: 'MissingField' },
            );
          if (!t.privateKey)
            report(ctx, [...path, 'privateKey'], `${t.mode} TLS needs privateKey (or credentialName)`, {
              code: 'MissingField',
            });
          if (t.mode !== 'SIMPLE' && !t.caCertificates) {
            report(
              ctx,
              [...path, 'caCertificates'],
              `${t.mode} TLS needs caCertificates to verify clients (or credentialName)`,
              { code: 'MissingField' },
            );
          }
        }
      }
      const min = t.minProtocolVersion;
      const max = t.maxProtocolVersion;
      if (
        min &&
        max &&
        min !== 'TLS_AUTO' &&
        max !== 'TLS_AUTO' &&
        TLS_VERSIONS.indexOf(min) > TLS_VERSIONS.indexOf(max)
      ) {
        report(ctx, path, `minProtocolVersion ${min} is newer than maxProtocolVersion ${max}`);
      }
    },
  );

const server = (): Schema<Server> =>
  refine(
    object<Server>({
      port: req(istioPort()),
      bind: opt(str()),
      hosts: req(
        refine(arrayOf(str(), { minItems: 1 }), (hosts, path, ctx) => {
          hosts.forEach((h, i) => {
            const p = gatewayHostProblem(h);
            if (p) report(ctx, [...path, i], p);
          });
        }),
      ),
      tls: opt(serverTls()),
      defaultEndpoint: opt(str()),
      name: opt(str()),
    }),
    (s, path, ctx) => {
      const protocol = s.port.protocol;
      if (isTlsProtocol(protocol) && !s.tls) {
        report(ctx, [...path, 'tls'], `a ${protocol.toUpperCase()} server needs tls settings`, {
          code: 'MissingField',
        });
      } else if (!isTlsProtocol(protocol) && s.tls) {
        const onlyRedirect = Object.keys(s.tls).every((k) => k === 'httpsRedirect');
        if (!isHttpProtocolName(protocol)) {
          report(
            ctx,
            [...path, 'tls'],
            `a ${protocol.toUpperCase()} server cannot have tls settings (use protocol HTTPS or TLS)`,
            { atKey: true },
          );
        } else if (!onlyRedirect) {
          report(ctx, [...path, 'tls'], 'a plain-text HTTP server can only set tls.httpsRedirect', {
            atKey: true,
          });
        }
      }
      if (s.tls?.mode === 'AUTO_PASSTHROUGH' && protocol.toUpperCase() !== 'TLS') {
        report(ctx, [...path, 'tls', 'mode'], 'AUTO_PASSTHROUGH needs protocol TLS');
      }
    },
  );

export const gatewaySpec = (): Schema<GatewaySpec> =>
  refine(
    object<GatewaySpec>({
      servers: req(arrayOf(server(), { minItems: 1 })),
      selector: opt(selectorLabels()),
    }),
    (g, path, ctx) => {
      const names = new Map<string, number>();
      g.servers.forEach((s, i) => {
        const prev = names.get(s.port.name);
        if (prev !== undefined) {
          report(
            ctx,
            [...path, 'servers', i, 'port', 'name'],
            `port names must be unique across servers: "${s.port.name}" is also servers[${prev}]`,
          );
        }
        names.set(s.port.name, i);
      });
    },
  );
