// Who is on the other end of a stream: the node it announced and the transport peer (with its certificate).

import type { PeerCertificate } from 'node:tls';
import type { JsonObject } from '@bufbuild/protobuf';
import type { Node } from '../../xds/gen/envoy/config/core/v3/base_pb.js';

export interface NodeInfo {
  /** `sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local` for Trellis and Istio sidecars. */
  readonly id: string;
  readonly cluster: string;
  /** `node.metadata` as JSON (Istio keys: NAMESPACE, LABELS, INSTANCE_IPS...). */
  readonly metadata: JsonObject;
  readonly locality: { region: string; zone: string; subZone: string } | undefined;
  readonly userAgentName: string;
  readonly userAgentVersion: string;
  readonly clientFeatures: readonly string[];
}

export interface PeerInfo {
  /** `ip:port` as grpc-js reports it. */
  readonly address: string;
  /** `ssl` when the server runs with TLS credentials. */
  readonly transportSecurity: string | undefined;
  /**
   * The client's certificate when it presented one over (m)TLS: hooks check the SPIFFE identity in
   * `subjectaltname` against the node's claimed namespace and service account.
   */
  readonly certificate: PeerCertificate | undefined;
}

/** What the server's hooks receive. */
export interface ProxyInfo {
  readonly node: NodeInfo;
  readonly peer: PeerInfo;
}

export function nodeInfo(node: Node): NodeInfo {
  const version = node.userAgentVersionType;
  let userAgentVersion = '';
  if (version.case === 'userAgentVersion') userAgentVersion = version.value;
  else if (version.case === 'userAgentBuildVersion' && version.value.version) {
    const v = version.value.version;
    userAgentVersion = `${v.majorNumber}.${v.minorNumber}.${v.patch}`;
  }
  return {
    id: node.id,
    cluster: node.cluster,
    metadata: node.metadata ?? {},
    locality: node.locality
      ? { region: node.locality.region, zone: node.locality.zone, subZone: node.locality.subZone }
      : undefined,
    userAgentName: node.userAgentName,
    userAgentVersion,
    clientFeatures: [...node.clientFeatures],
  };
}
