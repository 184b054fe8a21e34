// Envoy's defaults for unset fields, the RE2 compiler hook, and decoding straight from a DiscoveryResponse Any.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { AnySchema, anyPack } from '@bufbuild/protobuf/wkt';
import { FilterChainSchema } from '../../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { ListenerSchema } from '../../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { TcpProxySchema } from '../../../xds/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import type { RouteActionConfig } from '../model.js';
import type { RegexCompiler } from '../string-match.js';
import {
  clusterFromJson,
  listenerFromJson,
  oneHostRoutes,
  rejectionOf,
  request,
  routeTableFromJson,
} from '../testing/resources.js';
import { decodeResource } from './index.js';

const T = 'type.googleapis.com/';

test("what a resource leaves unset takes Envoy's default, not zero", () => {
  const table = routeTableFromJson(
    oneHostRoutes([{ match: { prefix: '/' }, route: { cluster: 'c', retryPolicy: { retryOn: '5xx' } } }]),
  );
  const action = table.virtualHosts[0]!.routes[0]!.action as RouteActionConfig;
  assert.equal(action.timeoutMs, 15_000);
  assert.equal(action.retry?.numRetries, 1);
  assert.equal(action.retry?.backoffBaseMs, 25);
  assert.equal(action.retry?.backoffMaxMs, 250);
  assert.equal(action.retry?.hostSelectionRetryMaxAttempts, 1);
  assert.equal(action.clusterNotFoundStatus, 503);

  const cluster = clusterFromJson({ name: 'c', type: 'STATIC' });
  assert.equal(cluster.connectTimeoutMs, 5000);
  assert.deepEqual(cluster.http, {
    protocol: 'http1',
    idleTimeoutMs: 3_600_000,
    maxRequestsPerConnection: 0,
    maxConcurrentStreams: 2147483647,
  });
  assert.equal(cluster.lb.policy.type, 'ROUND_ROBIN');
  assert.equal(cluster.lb.healthyPanicThreshold, 50);
  assert.equal(cluster.circuitBreakers.DEFAULT.maxRequests, 1024);

  const listener = listenerFromJson({
    name: 'l',
    address: { socketAddress: { address: '0.0.0.0', portValue: 8080 } },
    filterChains: [
      {
        filters: [
          {
            name: 'hcm',
            typedConfig: {
              '@type': `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
              statPrefix: 'in',
              routeConfig: { name: 'inline', virtualHosts: [] },
              httpFilters: [
                {
                  name: 'router',
                  typedConfig: { '@type': `${T}envoy.extensions.filters.http.router.v3.Router` },
                },
              ],
            },
          },
        ],
      },
      {
        filterChainMatch: { destinationPort: 9000 },
        filters: [
          {
            name: 'tcp',
            typedConfig: {
              '@type': `${T}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`,
              statPrefix: 't',
              cluster: 'c',
            },
          },
        ],
      },
    ],
  });
  assert.equal(listener.bindToPort, true);
  assert.equal(listener.listenerFiltersTimeoutMs, 15_000);
  const hcm = listener.filterChains[0]!.terminal;
  assert.ok(hcm.kind === 'http');
  assert.equal(hcm.hcm.streamIdleTimeoutMs, 300_000);
  assert.equal(hcm.hcm.requestTimeoutMs, 0);
  assert.equal(hcm.hcm.generateRequestId, true);
  assert.equal(hcm.hcm.serverName, 'envoy');
  assert.equal(hcm.hcm.forwardClientCert, 'SANITIZE');
  const tcp = listener.filterChains[1]!.terminal;
  assert.ok(tcp.kind === 'tcp');
  assert.equal(tcp.tcp.idleTimeoutMs, 3_600_000);
  assert.equal(tcp.tcp.maxConnectAttempts, 1);
});

test('the RegexCompiler hook compiles every safe_regex and regex_rewrite, so an RE2 translator can be swapped in', () => {
  const seen: string[] = [];
  const compiler: RegexCompiler = (pattern, opts = {}) => {
    seen.push(`${pattern} full=${opts.fullMatch ?? false} g=${opts.global ?? false}`);
    // A stand-in for an RE2 translator: \z (RE2's end of text) becomes $.
    const body = pattern.replace(/\\z/g, '$');
    return new RegExp(opts.fullMatch ? `^(?:${body})$` : body, opts.global ? 'g' : '');
  };
  const table = routeTableFromJson(
    oneHostRoutes([
      {
        match: { safeRegex: { regex: '/v[0-9]+/.*\\z' } },
        route: {
          cluster: 'c',
          regexRewrite: { pattern: { regex: '^/v([0-9]+)/' }, substitution: '/version/\\1/' },
        },
      },
    ]),
    { compileRegex: compiler },
  );
  assert.deepEqual(seen.sort(), ['/v[0-9]+/.*\\z full=true g=false', '^/v([0-9]+)/ full=false g=true']);
  const route = table.virtualHosts[0]!.routes[0]!;
  assert.equal(route.matches(request('/v2/items')), true);
  const rw = (route.action as RouteActionConfig).regexRewrite!;
  assert.equal('/v2/items'.replace(rw.pattern, rw.substitution), '/version/2/items');
  // A pattern the compiler refuses is a rejection naming it.
  const lines = rejectionOf(() =>
    routeTableFromJson(
      oneHostRoutes([{ match: { safeRegex: { regex: '(?P<n>x)' } }, route: { cluster: 'c' } }]),
      {
        compileRegex: () => {
          throw new Error('named groups are not RE2 here');
        },
      },
    ),
  );
  assert.deepEqual(lines, [
    'RouteConfiguration "test": virtual_hosts[0].routes[0].match.safe_regex.regex: invalid regex "(?P<n>x)": named groups are not RE2 here',
  ]);
});

test('decodeResource takes the Any of a DiscoveryResponse and names the resource it decoded', () => {
  const listener = create(ListenerSchema, {
    name: 'virtualOutbound',
    address: {
      address: {
        case: 'socketAddress',
        value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: 15001 } },
      },
    },
    useOriginalDst: true,
    filterChains: [],
  });
  const any = anyPack(ListenerSchema, listener);
  assert.throws(
    () => decodeResource(any),
    /Listener "virtualOutbound": filter_chains: a listener needs at least one filter chain or a default_filter_chain/,
  );
  listener.filterChains.push(
    create(FilterChainSchema, {
      filters: [
        {
          name: 'tcp',
          configType: {
            case: 'typedConfig',
            value: anyPack(
              TcpProxySchema,
              create(TcpProxySchema, {
                statPrefix: 'p',
                clusterSpecifier: { case: 'cluster', value: 'PassthroughCluster' },
              }),
            ),
          },
        },
      ],
    }),
  );
  const decoded = decodeResource(anyPack(ListenerSchema, listener));
  assert.equal(decoded.type, 'Listener');
  assert.equal(decoded.name, 'virtualOutbound');
  assert.throws(
    () => decodeResource(create(AnySchema, { typeUrl: `${T}envoy.config.core.v3.Node` })),
    /unexpected resource type type.googleapis.com\/envoy.config.core.v3.Node/,
  );
});
