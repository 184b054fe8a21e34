// TLS between sidecars (ISTIO_MUTUAL, auto mTLS) and TLS origination (SIMPLE/MUTUAL), as Envoy transport sockets.

import type { ClientTLSSettings } from '../../api/types/index.js';
import type { Protocol } from '../../registry/model.js';
import { ApiConfigSource_ApiType, ApiVersion } from '../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import {
  SubjectAltNameMatcher_SanType,
  TlsParameters_TlsProtocol,
} from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import {
  DownstreamTlsContextSchema,
  UpstreamTlsContextSchema,
} from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { typed } from './envoy.js';

/** Istio's SDS source: the workload agent serves `default` and `ROOTCA` (Trellis's sidecar resolves them itself). */
function sdsSecret(name: string) {
  return {
    name,
    sdsConfig: {
      configSourceSpecifier: {
        case: 'apiConfigSource' as const,
        value: {
          apiType: ApiConfigSource_ApiType.GRPC,
          transportApiVersion: ApiVersion.V3,
          grpcServices: [
            { targetSpecifier: { case: 'envoyGrpc' as const, value: { clusterName: 'sds-grpc' } } },
          ],
        },
      },
      resourceApiVersion: ApiVersion.V3,
    },
  };
}

/** ALPN a client sidecar offers to a server sidecar, so the server can pick a filter chain by protocol. */
export function meshAlpn(protocol: Protocol): string[] {
  switch (protocol) {
    case 'HTTP':
      return ['istio-http/1.1', 'istio'];
    case 'HTTP2':
    case 'GRPC':
      return ['istio-h2', 'istio'];
    case 'UNKNOWN':
      return ['istio-http/1.1', 'istio-h2', 'istio'];
    default:
      return ['istio-peer-exchange', 'istio'];
  }
}

export function istioMutualUpstream(opts: { sans: string[]; sni: string; protocol: Protocol }) {
  return typed(UpstreamTlsContextSchema, {
    sni: opts.sni,
    commonTlsContext: {
      tlsParams: {
        tlsMinimumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3,
        tlsMaximumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3,
      },
      tlsCertificateSdsSecretConfigs: [sdsSecret('default')],
      validationContextType: {
        case: 'combinedValidationContext',
        value: {
          defaultValidationContext: {
            matchTypedSubjectAltNames: opts.sans.map((san) => ({
              sanType: SubjectAltNameMatcher_SanType.URI,
              matcher: { matchPattern: { case: 'exact' as const, value: san } },
            })),
          },
          validationContextSdsSecretConfig: sdsSecret('ROOTCA'),
        },
      },
      alpnProtocols: meshAlpn(opts.protocol),
    },
  });
}

/** TLS origination to a non-mesh destination (DestinationRule tls SIMPLE or MUTUAL with files). */
export function originationUpstream(tls: ClientTLSSettings, defaultSni: string | undefined) {
  const sans = tls.subjectAltNames ?? [];
  return typed(UpstreamTlsContextSchema, {
    sni: tls.sni ?? defaultSni ?? '',
    commonTlsContext: {
      tlsCertificates:
        tls.mode === 'MUTUAL' && tls.clientCertificate && tls.privateKey
          ? [
              {
                certificateChain: { specifier: { case: 'filename', value: tls.clientCertificate } },
                privateKey: { specifier: { case: 'filename', value: tls.privateKey } },
              },
            ]
          : [],
      validationContextType: tls.insecureSkipVerify
        ? { case: undefined }
        : {
            case: 'validationContext',
            value: {
              trustedCa: tls.caCertificates
                ? { specifier: { case: 'filename', value: tls.caCertificates } }
                : undefined,
              matchTypedSubjectAltNames: sans.map((san) => ({
                sanType: san.includes('://')
                  ? SubjectAltNameMatcher_SanType.URI
                  : SubjectAltNameMatcher_SanType.DNS,
                matcher: { matchPattern: { case: 'exact' as const, value: san } },
              })),
            },
          },
    },
  });
}

/** The server side of mesh mTLS on an inbound filter chain. */
export function istioMutualDownstream(opts: { alpn: string[]; requireClientCertificate: boolean }) {
  return typed(DownstreamTlsContextSchema, {
    requireClientCertificate: opts.requireClientCertificate,
    commonTlsContext: {
      tlsParams: {
        tlsMinimumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3,
        tlsMaximumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3,
      },
      tlsCertificateSdsSecretConfigs: [sdsSecret('default')],
      validationContextType: {
        case: 'combinedValidationContext',
        value: { defaultValidationContext: {}, validationContextSdsSecretConfig: sdsSecret('ROOTCA') },
      },
      alpnProtocols: opts.alpn,
    },
  });
}

export const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';
