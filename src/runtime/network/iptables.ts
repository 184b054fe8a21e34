// The capture rules Istio's init container installs (istio-iptables), as an iptables-restore document.

export interface CaptureOptions {
  /** The sidecar runs as this uid/gid; its own traffic is never redirected. Istio uses 1337. */
  proxyUid: number;
  proxyGid: number;
  outboundPort: number;
  inboundPort: number;
  /** Inbound ports that reach the pod directly (the sidecar's own health and metrics ports). */
  excludeInboundPorts: number[];
  /** Outbound destinations (CIDRs) that bypass the sidecar, e.g. the control plane's address. */
  excludeOutboundCidrs: string[];
  /** Inbound sources (CIDRs) that reach the app directly: the runtime's prober, as kubelet's probes do. */
  excludeInboundSources?: string[];
}

export const ISTIO_CAPTURE_DEFAULTS: CaptureOptions = {
  proxyUid: 1337,
  proxyGid: 1337,
  outboundPort: 15001,
  inboundPort: 15006,
  excludeInboundPorts: [15020, 15021, 15090],
  excludeOutboundCidrs: [],
};

/**
 * Istio's nat table: inbound TCP to the pod goes to 15006, outbound TCP from the app goes to 15001, and traffic of
 * the proxy's uid/gid, loopback traffic of the app, and excluded ports pass untouched. 127.0.0.6 is the source
 * address of the proxy's inbound passthrough connections.
 */
export function captureRules(o: CaptureOptions): string {
  const lines = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':ISTIO_INBOUND - [0:0]',
    ':ISTIO_IN_REDIRECT - [0:0]',
    ':ISTIO_OUTPUT - [0:0]',
    ':ISTIO_REDIRECT - [0:0]',
    `-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${o.outboundPort}`,
    `-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${o.inboundPort}`,
    '-A PREROUTING -p tcp -j ISTIO_INBOUND',
    ...(o.excludeInboundSources ?? []).map((c) => `-A ISTIO_INBOUND -s ${c} -j RETURN`),
    ...o.excludeInboundPorts.map((p) => `-A ISTIO_INBOUND -p tcp --dport ${p} -j RETURN`),
    '-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT',
    '-A OUTPUT -p tcp -j ISTIO_OUTPUT',
    '-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN',
    `-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m owner --uid-owner ${o.proxyUid} -j ISTIO_IN_REDIRECT`,
    `-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner ${o.proxyUid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --uid-owner ${o.proxyUid} -j RETURN`,
    `-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m owner --gid-owner ${o.proxyGid} -j ISTIO_IN_REDIRECT`,
    `-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner ${o.proxyGid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --gid-owner ${o.proxyGid} -j RETURN`,
    '-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN',
    ...o.excludeOutboundCidrs.map((c) => `-A ISTIO_OUTPUT -d ${c} -j RETURN`),
    '-A ISTIO_OUTPUT -j ISTIO_REDIRECT',
    'COMMIT',
    '',
  ];
  return lines.join('\n');
}
