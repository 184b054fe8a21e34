// Rejections: each unsupported or invalid construct yields a precise line naming the resource and field.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, type JsonValue } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { decodeListener } from '../../../src/sidecar/config/index.js';
import {
  clusterFromJson,
  endpointsFromJson,
  listenerFromJson,
  oneHostRoutes,
  rejectionOf,
  routeTableFromJson,
} from '../../../src/sidecar/config/testing/resources.js';
import { messageFromJson } from '../../../src/xds/any.js';
import { ListenerSchema } from '../../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';

// A resource the sidecar cannot apply is refused with every reason, each naming the resource and field path:
// the text becomes the NACK's error_detail.

const T = 'type.googleapis.com/';
const ROUTER = {
  name: 'envoy.filters.http.router',
  typedConfig: { '@type': `${T}envoy.extensions.filters.http.router.v3.Router` },
};

function hcm(extra: Record<string, unknown> = {}) {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typedConfig: {
      '@type': `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
      statPrefix: 'outbound_0.0.0.0_9080',
      rds: { configSource: { ads: {} }, routeConfigName: '9080' },
      httpFilters: [ROUTER],
      ...extra,
    },
  };
}

function listener(chains: unknown[], extra: Record<string, unknown> = {}) {
  return {
    name: '0.0.0.0_9080',
    address: { socketAddress: { address: '0.0.0.0', portValue: 9080 } },
    bindToPort: false,
    filterChains: chains,
    ...extra,
  };
}

test('a network filter the sidecar does not implement is refused by type URL', () => {
  const msg = messageFromJson(ListenerSchema, listener([{ filters: [hcm()] }]) as JsonValue);
  msg.filterChains[0]!.filters.unshift({
    ...msg.filterChains[0]!.filters[0]!,
    name: 'foo',
    configType: {
      case: 'typedConfig',
      value: create(AnySchema, { typeUrl: `${T}foo.Bar`, value: new Uint8Array() }),
    },
  });
  assert.deepEqual(
    rejectionOf(() => decodeListener(msg)),
    [
      'Listener "0.0.0.0_9080": filter_chains[0].filters[0]: unsupported network filter type.googleapis.com/foo.Bar',
    ],
  );
});

test('every problem of a resource is listed, not just the first', () => {
  const lines = rejectionOf(() =>
    listenerFromJson(
      listener(
        [
          {
            filters: [
              hcm({
                rds: { configSource: { path: '/etc/routes.yaml' }, routeConfigName: '9080' },
                httpFilters: [
                  ROUTER,
                  {
                    name: 'envoy.filters.http.fault',
                    typedConfig: { '@type': `${T}envoy.extensions.filters.http.fault.v3.HTTPFault` },
                  },
                ],
                localReplyConfig: {},
              }),
            ],
          },
        ],
        { transparent: true },
      ),
    ),
  );
  assert.deepEqual(lines, [
    'Listener "0.0.0.0_9080": transparent: not supported by the Trellis sidecar',
    'Listener "0.0.0.0_9080": filter_chains[0].filters[0].typed_config.local_reply_config: not supported by the Trellis sidecar',
    'Listener "0.0.0.0_9080": filter_chains[0].filters[0].typed_config.http_filters: the router ("envoy.filters.http.router") must be the last HTTP filter',
    'Listener "0.0.0.0_9080": filter_chains[0].filters[0].typed_config.rds.config_source: route configurations must come over ADS (config_source.ads)',
  ]);
});

test('an unknown HTTP filter is refused unless it is marked optional, which Envoy skips', () => {
  const lua = {
    name: 'envoy.filters.http.lua',
    typedConfig: {
      '@type': `${T}udpa.type.v1.TypedStruct`,
      typeUrl: `${T}envoy.extensions.filters.http.lua.v3.Lua`,
      value: {},
    },
  };
  assert.deepEqual(
    rejectionOf(() => listenerFromJson(listener([{ filters: [hcm({ httpFilters: [lua, ROUTER] })] }]))),
    [
      'Listener "0.0.0.0_9080": filter_chains[0].filters[0].typed_config.http_filters[0]: unsupported HTTP filter type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua ("envoy.filters.http.lua")',
    ],
  );
  const l = listenerFromJson(
    listener([{ filters: [hcm({ httpFilters: [{ ...lua, isOptional: true }, ROUTER] })] }]),
  );
  const chain = l.filterChains[0]!;
  assert.deepEqual(chain.terminal.kind === 'http' && chain.terminal.hcm.httpFilters.map((f) => f.kind), [
    'router',
  ]);
});

test('extension config discovery and per-route-enabled filters are refused once each', () => {
  const disabled = {
    ...ROUTER,
    name: 'envoy.filters.http.fault',
    typedConfig: { '@type': `${T}envoy.extensions.filters.http.fault.v3.HTTPFault` },
    disabled: true,
  };
  const ecds = {
    name: 'envoy.filters.http.wasm',
    configDiscovery: {
      configSource: { ads: {} },
      typeUrls: [`${T}envoy.extensions.filters.http.wasm.v3.Wasm`],
    },
  };
  assert.deepEqual(
    rejectionOf(() =>
      listenerFromJson(listener([{ filters: [hcm({ httpFilters: [disabled, ecds, ROUTER] })] }])),
    ),
    [
      'Listener "0.0.0.0_9080": filter_chains[0].filters[0].typed_config.http_filters[0].disabled: filter "envoy.filters.http.fault": disabled filters (enabled per route) are not supported',
      'Listener "0.0.0.0_9080": filter_chains[0].filters[0].typed_config.http_filters[1].config_discovery: not supported by the Trellis sidecar',
    ],
  );
});

test('TLS contexts: unknown SDS secrets, TLS 1.0, and inline certificates are refused', () => {
  const tls = (common: unknown) => ({
    name: 'envoy.transport_sockets.tls',
    typedConfig: {
      '@type': `${T}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`,
      commonTlsContext: common,
    },
  });
  const lines = rejectionOf(() =>
    listenerFromJson(
      listener([
        {
          filters: [hcm()],
          transportSocket: tls({
            tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_0' },
            tlsCertificateSdsSecretConfigs: [{ name: 'kubernetes://my-cert' }],
          }),
        },
        {
          filterChainMatch: { transportProtocol: 'tls' },
          filters: [hcm()],
          transportSocket: tls({
            tlsCertificates: [
              { certificateChain: { inlineString: 'PEM' }, privateKey: { filename: '/k.pem' } },
            ],
          }),
        },
      ]),
    ),
  );
  assert.deepEqual(lines, [
    'Listener "0.0.0.0_9080": filter_chains[0].transport_socket.typed_config.common_tls_context.tls_params.tls_minimum_protocol_version: TLSv1_0 is not supported (TLS 1.2 or 1.3 only)',
    'Listener "0.0.0.0_9080": filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0].name: unknown SDS secret "kubernetes://my-cert": the sidecar\'s identity agent serves only "default" and "ROOTCA"',
    'Listener "0.0.0.0_9080": filter_chains[0].transport_socket.typed_config.common_tls_context: a server TLS context needs a certificate (tls_certificates or tls_certificate_sds_secret_configs)',
    'Listener "0.0.0.0_9080": filter_chains[1].transport_socket.typed_config.common_tls_context.tls_certificates[0].certificate_chain: only filename data sources are supported here, got inlineString',
    'Listener "0.0.0.0_9080": filter_chains[1].transport_socket.typed_config.common_tls_context: a server TLS context needs a certificate (tls_certificates or tls_certificate_sds_secret_configs)',
  ]);
});

test('route configurations: retry_on names, duplicate domains, regexes, header formatters, weights', () => {
  const lines = rejectionOf(() =>
    routeTableFromJson({
      name: '9080',
      virtualHosts: [
        {
          name: 'reviews',
          domains: ['reviews', 'reviews:9080'],
          routes: [
            {
              match: { safeRegex: { regex: '/items/(' } },
              route: { cluster: 'c', retryPolicy: { retryOn: '5xx,gateway-eror', numRetries: 2 } },
              requestHeadersToAdd: [{ header: { key: 'x-client', value: '%DOWNSTREAM_REMOTE_ADDRESS%' } }],
            },
            {
              match: { prefix: '/' },
              route: {
                weightedClusters: {
                  clusters: [
                    { name: 'v1', weight: 0 },
                    { name: 'v2', weight: 0 },
                  ],
                },
              },
            },
          ],
        },
        { name: 'other', domains: ['REVIEWS:9080', '*'], routes: [] },
      ],
    }),
  );
  assert.equal(lines.length, 5, lines.join('\n'));
  assert.match(
    lines[0]!,
    /^RouteConfiguration "9080": virtual_hosts\[0\]\.routes\[0\]\.match\.safe_regex\.regex: invalid regex "\/items\/\(": /,
  );
  assert.equal(
    lines[1],
    'RouteConfiguration "9080": virtual_hosts[0].routes[0].route.retry_policy.retry_on: unknown retry condition "gateway-eror" (Envoy\'s are 5xx, gateway-error, reset, reset-before-request, connect-failure, envoy-ratelimited, retriable-4xx, refused-stream, retriable-status-codes, retriable-headers, http3-post-connect-failure, cancelled, deadline-exceeded, internal, resource-exhausted, unavailable)',
  );
  assert.deepEqual(lines.slice(2), [
    'RouteConfiguration "9080": virtual_hosts[0].routes[0].request_headers_to_add[0].header.value: header value "%DOWNSTREAM_REMOTE_ADDRESS%" uses %-substitution, which the Trellis sidecar does not implement (write %% for a literal %)',
    'RouteConfiguration "9080": virtual_hosts[0].routes[1].route.weighted_clusters.clusters: the sum of the weights must be greater than 0',
    // Domains compare without case: "REVIEWS:9080" is the first virtual host's "reviews:9080".
    'RouteConfiguration "9080": virtual_hosts[1].domains[0]: only unique values for domains are permitted: "REVIEWS:9080" is also a domain of virtual host "reviews"',
  ]);
});

test('route features the sidecar does not implement are refused, never dropped', () => {
  const lines = rejectionOf(() =>
    routeTableFromJson(
      oneHostRoutes([
        {
          match: { prefix: '/', runtimeFraction: { defaultValue: { numerator: 50 } } },
          route: {
            clusterHeader: 'x-cluster',
            hedgePolicy: { initialRequests: 2 },
            retryPolicy: {
              retryOn: '5xx',
              retryHostPredicate: [{ name: 'envoy.retry_host_predicates.omit_canary_hosts' }],
            },
          },
          typedPerFilterConfig: {
            'envoy.filters.http.rbac': { '@type': `${T}envoy.extensions.filters.http.rbac.v3.RBACPerRoute` },
          },
        },
        {
          match: { pathSeparatedPrefix: '/api/' },
          directResponse: { status: 200, body: { inlineString: 'x'.repeat(5000) } },
        },
      ]),
    ),
  );
  assert.deepEqual(lines, [
    'RouteConfiguration "test": virtual_hosts[0].routes[0].match.runtime_fraction: not supported by the Trellis sidecar',
    'RouteConfiguration "test": virtual_hosts[0].routes[0].route.cluster_header: not supported by the Trellis sidecar',
    'RouteConfiguration "test": virtual_hosts[0].routes[0].route.hedge_policy: not supported by the Trellis sidecar',
    'RouteConfiguration "test": virtual_hosts[0].routes[0].route.retry_policy.retry_host_predicate[0]: retry host predicate envoy.retry_host_predicates.omit_canary_hosts is not supported (only envoy.retry_host_predicates.previous_hosts)',
    'RouteConfiguration "test": virtual_hosts[0].routes[0].typed_per_filter_config["envoy.filters.http.rbac"]: unsupported per-filter config type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute for "envoy.filters.http.rbac"',
    'RouteConfiguration "test": virtual_hosts[0].routes[1].match.path_separated_prefix: "/api/" must not end with "/" nor contain "?" or "#"',
    'RouteConfiguration "test": virtual_hosts[0].routes[1].direct_response.body: response body size is 5000 bytes; maximum is 4096',
  ]);
});

test('clusters: health checks, MURMUR ring hashes, success-rate ejection, non-ADS EDS, bad budgets', () => {
  const lines = rejectionOf(() =>
    clusterFromJson({
      name: 'outbound|9080||reviews.default.svc.cluster.local',
      type: 'EDS',
      edsClusterConfig: {
        edsConfig: { path: '/eds.yaml' },
        serviceName: 'outbound|9080||reviews.default.svc.cluster.local',
      },
      lbPolicy: 'RING_HASH',
      ringHashLbConfig: { hashFunction: 'MURMUR_HASH_2' },
      healthChecks: [{ timeout: '1s', interval: '5s', tcpHealthCheck: {} }],
      outlierDetection: { consecutive5xx: 3 },
      metadata: { filterMetadata: { 'trellis.retry_budget': { percent: '20%' } } },
    }),
  );
  assert.deepEqual(lines, [
    'Cluster "outbound|9080||reviews.default.svc.cluster.local": health_checks: not supported by the Trellis sidecar',
    'Cluster "outbound|9080||reviews.default.svc.cluster.local": lb_policy: ring hash function MURMUR_HASH_2 is not supported (use XX_HASH)',
    'Cluster "outbound|9080||reviews.default.svc.cluster.local": metadata.filter_metadata["trellis.retry_budget"]: cluster "outbound|9080||reviews.default.svc.cluster.local" metadata trellis.retry_budget: percent and min_retries_per_second must be numbers',
    'Cluster "outbound|9080||reviews.default.svc.cluster.local": outlier_detection.enforcing_success_rate: success-rate ejection is not implemented; set enforcing_success_rate to 0',
    'Cluster "outbound|9080||reviews.default.svc.cluster.local": eds_cluster_config.eds_config: endpoints must come over ADS (eds_config.ads)',
  ]);
});

test('endpoints: named ports, endpoint names and non-IP addresses in EDS are refused', () => {
  const lines = rejectionOf(() =>
    endpointsFromJson({
      clusterName: 'outbound|9080||reviews.default.svc.cluster.local',
      endpoints: [
        {
          lbEndpoints: [
            { endpoint: { address: { socketAddress: { address: '10.1.0.5', namedPort: 'http' } } } },
            { endpointName: 'pod-a' },
            { endpoint: { address: { socketAddress: { address: 'reviews-0.local', portValue: 9080 } } } },
          ],
        },
      ],
    }),
  );
  assert.deepEqual(lines, [
    'ClusterLoadAssignment "outbound|9080||reviews.default.svc.cluster.local": endpoints[0].lb_endpoints[0].endpoint.address.socket_address: port_value is required (named ports are not supported)',
    'ClusterLoadAssignment "outbound|9080||reviews.default.svc.cluster.local": endpoints[0].lb_endpoints[1]: only inline endpoints are supported (endpoint_name needs named_endpoints)',
    'ClusterLoadAssignment "outbound|9080||reviews.default.svc.cluster.local": endpoints[0].lb_endpoints[2].endpoint.address.socket_address.address: "reviews-0.local" is not an IP address',
  ]);
});
