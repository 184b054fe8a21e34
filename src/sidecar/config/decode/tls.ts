// Transport sockets: TLS contexts (SDS secret names, files, typed SAN matchers) and raw_buffer, client and server side.

import type { DataSource, TransportSocket } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import {
  type CertificateValidationContext,
  CertificateValidationContextSchema,
  SubjectAltNameMatcher_SanType,
  type TlsCertificate,
  TlsCertificateSchema,
  type TlsParameters,
  TlsParameters_TlsProtocol,
  TlsParametersSchema,
} from '../../../xds/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import type { SdsSecretConfig } from '../../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import {
  type CommonTlsContext,
  CommonTlsContext_CombinedCertificateValidationContextSchema,
  CommonTlsContextSchema,
  DownstreamTlsContextSchema,
  UpstreamTlsContextSchema,
} from '../../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { DownstreamTls, SanMatcher, UpstreamTls } from '../model.js';
import { fieldPolicy } from './fields.js';
import { stringMatcher } from './matchers.js';
import { at, type DecodeContext } from './problems.js';
import { effectiveTypeUrl, snake, unpackTyped } from './typed.js';

export const TLS_SOCKET = 'envoy.transport_sockets.tls';
export const RAW_BUFFER_SOCKET = 'envoy.transport_sockets.raw_buffer';
const RAW_BUFFER_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';

/** The secrets the sidecar's identity agent serves (docs/xds-contract.md §7). */
const KNOWN_SECRETS = new Set(['default', 'ROOTCA']);

const UPSTREAM_FIELDS = fieldPolicy(UpstreamTlsContextSchema, { handled: ['common_tls_context', 'sni'] });
const DOWNSTREAM_FIELDS = fieldPolicy(DownstreamTlsContextSchema, {
  handled: ['common_tls_context', 'require_client_certificate'],
  // Session resumption settings: how fast a handshake is, not who may connect.
  ignored: ['session_timeout', 'disable_stateless_session_resumption', 'disable_stateful_session_resumption'],
});
const COMMON_FIELDS = fieldPolicy(CommonTlsContextSchema, {
  handled: [
    'tls_params',
    'tls_certificates',
    'tls_certificate_sds_secret_configs',
    'validation_context',
    'validation_context_sds_secret_config',
    'combined_validation_context',
    'alpn_protocols',
  ],
});
const PARAMS_FIELDS = fieldPolicy(TlsParametersSchema, {
  handled: ['tls_minimum_protocol_version', 'tls_maximum_protocol_version'],
});
const CERT_FIELDS = fieldPolicy(TlsCertificateSchema, { handled: ['certificate_chain', 'private_key'] });
const VALIDATION_FIELDS = fieldPolicy(CertificateValidationContextSchema, {
  handled: ['trusted_ca', 'match_typed_subject_alt_names', 'match_subject_alt_names', 'system_root_certs'],
});
const COMBINED_FIELDS = fieldPolicy(CommonTlsContext_CombinedCertificateValidationContextSchema, {
  handled: ['default_validation_context', 'validation_context_sds_secret_config'],
});

type Version = 'TLSv1_2' | 'TLSv1_3';

export type SocketChoice =
  | { kind: 'raw' }
  | { kind: 'upstreamTls'; tls: UpstreamTls }
  | { kind: 'downstreamTls'; tls: DownstreamTls };

/** Decodes a TransportSocket; `side` decides which TLS context is expected. */
export function transportSocket(
  ctx: DecodeContext,
  ts: TransportSocket,
  path: string,
  side: 'upstream' | 'downstream',
): SocketChoice | undefined {
  const config = ts.configType;
  if (config.case === undefined) {
    // Envoy resolves an extension without typed_config by its name; only raw_buffer has an empty config.
    if (ts.name === RAW_BUFFER_SOCKET) return { kind: 'raw' };
    ctx.report(at(path, 'typed_config'), `transport socket "${ts.name}" needs a typed_config`);
    return undefined;
  }
  const type = effectiveTypeUrl(config.value);
  const p = at(path, 'typed_config');
  if (type === RAW_BUFFER_TYPE) return { kind: 'raw' };
  if (side === 'upstream' && type === `type.googleapis.com/${UpstreamTlsContextSchema.typeName}`) {
    const m = unpackTyped(ctx, config.value, UpstreamTlsContextSchema, p);
    if (!m) return undefined;
    UPSTREAM_FIELDS.check(ctx, m, p);
    const tls = upstreamTls(ctx, m.commonTlsContext, m.sni, p);
    return tls ? { kind: 'upstreamTls', tls } : undefined;
  }
  if (side === 'downstream' && type === `type.googleapis.com/${DownstreamTlsContextSchema.typeName}`) {
    const m = unpackTyped(ctx, config.value, DownstreamTlsContextSchema, p);
    if (!m) return undefined;
    DOWNSTREAM_FIELDS.check(ctx, m, p);
    const tls = downstreamTls(ctx, m.commonTlsContext, m.requireClientCertificate ?? false, p);
    return tls ? { kind: 'downstreamTls', tls } : undefined;
  }
  ctx.report(p, `unsupported ${side} transport socket ${type} ("${ts.name}")`);
  return undefined;
}

interface CommonParts {
  alpn: string[];
  minimumProtocol: Version;
  maximumProtocol: Version;
  certificateSecret?: string;
  certificateFile?: { certChain: string; privateKey: string };
  validationSecret?: string;
  trustedCaFile?: string;
  validation?: CertificateValidationContext;
  hasValidation: boolean;
}

function upstreamTls(
  ctx: DecodeContext,
  c: CommonTlsContext | undefined,
  sni: string,
  path: string,
): UpstreamTls | undefined {
  const parts = common(ctx, c, at(path, 'common_tls_context'), 'TLSv1_2');
  if (!parts) return undefined;
  const sans = subjectAltNames(ctx, parts.validation, at(path, 'common_tls_context.validation'));
  const out: UpstreamTls = {
    sni,
    alpn: parts.alpn,
    subjectAltNames: sans,
    spiffeIds: sans.filter((s) => s.type === 'URI' && s.match.kind === 'exact').map((s) => s.match.value),
    insecureSkipVerify: !parts.hasValidation,
    minimumProtocol: parts.minimumProtocol,
    maximumProtocol: parts.maximumProtocol,
  };
  copyCredentials(parts, out);
  return out;
}

function downstreamTls(
  ctx: DecodeContext,
  c: CommonTlsContext | undefined,
  requireClientCertificate: boolean,
  path: string,
): DownstreamTls | undefined {
  const cp = at(path, 'common_tls_context');
  const parts = common(ctx, c, cp, 'TLSv1_3');
  if (!parts) return undefined;
  if (!parts.certificateSecret && !parts.certificateFile) {
    ctx.report(
      cp,
      'a server TLS context needs a certificate (tls_certificates or tls_certificate_sds_secret_configs)',
    );
  }
  const v = parts.validation;
  if (v && (v.matchTypedSubjectAltNames.length > 0 || v.matchSubjectAltNames.length > 0)) {
    ctx.report(
      at(cp, 'validation'),
      'client certificate SAN matching is not supported (authorize peers with RBAC)',
    );
  }
  if (requireClientCertificate && !parts.hasValidation) {
    ctx.report(
      at(path, 'require_client_certificate'),
      'requiring a client certificate needs a validation context to check it against',
    );
  }
  const out: DownstreamTls = {
    requireClientCertificate,
    alpn: parts.alpn,
    minimumProtocol: parts.minimumProtocol,
    maximumProtocol: parts.maximumProtocol,
  };
  copyCredentials(parts, out);
  return out;
}

function copyCredentials(parts: CommonParts, out: UpstreamTls | DownstreamTls): void {
  if (parts.certificateSecret) out.certificateSecret = parts.certificateSecret;
  if (parts.certificateFile) out.certificateFile = parts.certificateFile;
  if (parts.validationSecret) out.validationSecret = parts.validationSecret;
  if (parts.trustedCaFile) out.trustedCaFile = parts.trustedCaFile;
}

function common(
  ctx: DecodeContext,
  c: CommonTlsContext | undefined,
  path: string,
  defaultMax: Version,
): CommonParts | undefined {
  if (!c) {
    ctx.report(path, 'common_tls_context is required');
    return undefined;
  }
  COMMON_FIELDS.check(ctx, c, path);
  const { minimumProtocol, maximumProtocol } = versions(ctx, c.tlsParams, at(path, 'tls_params'), defaultMax);
  const parts: CommonParts = {
    alpn: [...c.alpnProtocols],
    minimumProtocol,
    maximumProtocol,
    hasValidation: false,
  };
  if (c.tlsCertificateSdsSecretConfigs.length > 0 && c.tlsCertificates.length > 0) {
    ctx.report(path, 'tls_certificates and tls_certificate_sds_secret_configs are exclusive');
  }
  if (c.tlsCertificateSdsSecretConfigs.length > 1) {
    ctx.report(at(path, 'tls_certificate_sds_secret_configs'), 'only one certificate secret is supported');
  }
  const certSecret = c.tlsCertificateSdsSecretConfigs[0];
  if (certSecret)
    parts.certificateSecret = secretName(
      ctx,
      certSecret,
      at(at(path, 'tls_certificate_sds_secret_configs'), 0),
    );
  if (c.tlsCertificates.length > 1)
    ctx.report(at(path, 'tls_certificates'), 'only one certificate is supported');
  const cert = c.tlsCertificates[0];
  if (cert) parts.certificateFile = certificateFiles(ctx, cert, at(at(path, 'tls_certificates'), 0));
  const v = c.validationContextType;
  switch (v.case) {
    case 'validationContext':
      parts.hasValidation = true;
      parts.validation = v.value;
      validation(ctx, v.value, at(path, 'validation_context'), parts);
      break;
    case 'validationContextSdsSecretConfig':
      parts.hasValidation = true;
      parts.validationSecret = secretName(ctx, v.value, at(path, 'validation_context_sds_secret_config'));
      break;
    case 'combinedValidationContext': {
      const p = at(path, 'combined_validation_context');
      COMBINED_FIELDS.check(ctx, v.value, p);
      parts.hasValidation = true;
      if (v.value.validationContextSdsSecretConfig) {
        parts.validationSecret = secretName(
          ctx,
          v.value.validationContextSdsSecretConfig,
          at(p, 'validation_context_sds_secret_config'),
        );
      } else {
        ctx.report(
          at(p, 'validation_context_sds_secret_config'),
          'validation_context_sds_secret_config is required',
        );
      }
      if (v.value.defaultValidationContext) {
        parts.validation = v.value.defaultValidationContext;
        validation(ctx, v.value.defaultValidationContext, at(p, 'default_validation_context'), parts);
      }
      break;
    }
    case undefined:
      break;
    default:
      ctx.report(at(path, snake(v.case)), 'not supported by the Trellis sidecar');
  }
  return parts;
}

function validation(
  ctx: DecodeContext,
  v: CertificateValidationContext,
  path: string,
  parts: CommonParts,
): void {
  VALIDATION_FIELDS.check(ctx, v, path);
  if (v.trustedCa) {
    const file = fileOf(ctx, v.trustedCa, at(path, 'trusted_ca'));
    if (file) parts.trustedCaFile = file;
    if (parts.validationSecret)
      ctx.report(at(path, 'trusted_ca'), 'trusted_ca conflicts with the SDS validation secret');
  }
}

function subjectAltNames(
  ctx: DecodeContext,
  v: CertificateValidationContext | undefined,
  path: string,
): SanMatcher[] {
  const out: SanMatcher[] = [];
  if (!v) return out;
  v.matchTypedSubjectAltNames.forEach((m, i) => {
    const p = at(at(path, 'match_typed_subject_alt_names'), i);
    const type = SAN_TYPES[m.sanType];
    if (!type) {
      ctx.report(
        at(p, 'san_type'),
        `SAN type ${SubjectAltNameMatcher_SanType[m.sanType] ?? m.sanType} is not supported`,
      );
      return;
    }
    const match = stringMatcher(ctx, m.matcher, at(p, 'matcher'));
    if (match) out.push({ type, match });
  });
  v.matchSubjectAltNames.forEach((m, i) => {
    const match = stringMatcher(ctx, m, at(at(path, 'match_subject_alt_names'), i));
    if (match) out.push({ type: 'ANY', match });
  });
  return out;
}

const SAN_TYPES: Record<number, SanMatcher['type']> = {
  [SubjectAltNameMatcher_SanType.URI]: 'URI',
  [SubjectAltNameMatcher_SanType.DNS]: 'DNS',
  [SubjectAltNameMatcher_SanType.EMAIL]: 'EMAIL',
  [SubjectAltNameMatcher_SanType.IP_ADDRESS]: 'IP_ADDRESS',
};

function versions(
  ctx: DecodeContext,
  p: TlsParameters | undefined,
  path: string,
  defaultMax: Version,
): { minimumProtocol: Version; maximumProtocol: Version } {
  if (p) PARAMS_FIELDS.check(ctx, p, path);
  const min =
    version(ctx, p?.tlsMinimumProtocolVersion, at(path, 'tls_minimum_protocol_version')) ?? 'TLSv1_2';
  // Envoy's client default maximum is TLS 1.2; a TLS 1.3 minimum only makes sense with a 1.3 maximum.
  const max =
    version(ctx, p?.tlsMaximumProtocolVersion, at(path, 'tls_maximum_protocol_version')) ??
    (min === 'TLSv1_3' ? 'TLSv1_3' : defaultMax);
  if (min === 'TLSv1_3' && max === 'TLSv1_2') {
    ctx.report(path, 'tls_minimum_protocol_version TLSv1_3 is above tls_maximum_protocol_version TLSv1_2');
  }
  return { minimumProtocol: min, maximumProtocol: max };
}

function version(
  ctx: DecodeContext,
  v: TlsParameters_TlsProtocol | undefined,
  path: string,
): Version | undefined {
  switch (v) {
    case undefined:
    case TlsParameters_TlsProtocol.TLS_AUTO:
      return undefined;
    case TlsParameters_TlsProtocol.TLSv1_2:
      return 'TLSv1_2';
    case TlsParameters_TlsProtocol.TLSv1_3:
      return 'TLSv1_3';
    default:
      ctx.report(path, `${TlsParameters_TlsProtocol[v] ?? v} is not supported (TLS 1.2 or 1.3 only)`);
      return undefined;
  }
}

function secretName(ctx: DecodeContext, s: SdsSecretConfig, path: string): string | undefined {
  // The sds_config itself is not followed: the identity agent resolves the names locally.
  if (!KNOWN_SECRETS.has(s.name)) {
    ctx.report(
      at(path, 'name'),
      `unknown SDS secret "${s.name}": the sidecar's identity agent serves only "default" and "ROOTCA"`,
    );
    return undefined;
  }
  return s.name;
}

function certificateFiles(
  ctx: DecodeContext,
  c: TlsCertificate,
  path: string,
): { certChain: string; privateKey: string } | undefined {
  CERT_FIELDS.check(ctx, c, path);
  const certChain = c.certificateChain
    ? fileOf(ctx, c.certificateChain, at(path, 'certificate_chain'))
    : undefined;
  const privateKey = c.privateKey ? fileOf(ctx, c.privateKey, at(path, 'private_key')) : undefined;
  if (!c.certificateChain) ctx.report(at(path, 'certificate_chain'), 'certificate_chain is required');
  if (!c.privateKey) ctx.report(at(path, 'private_key'), 'private_key is required');
  return certChain && privateKey ? { certChain, privateKey } : undefined;
}

function fileOf(ctx: DecodeContext, d: DataSource, path: string): string | undefined {
  if (d.specifier.case === 'filename' && d.specifier.value) return d.specifier.value;
  ctx.report(path, `only filename data sources are supported here, got ${d.specifier.case ?? 'nothing'}`);
  return undefined;
}
