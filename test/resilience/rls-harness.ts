// A gateway for tests built only from the rate limit pieces: route rate_limits → RLS → 200 or 429.

import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import {
  generateDescriptors,
  type RateLimitPolicyEntry,
  rateLimitPolicyFromProto,
  selectRateLimitPolicies,
} from '../../src/sidecar/ratelimit/descriptors.js';
import type { GlobalRateLimitFilter } from '../../src/sidecar/ratelimit/global-filter.js';
import { messageFromJson } from '../../src/xds/any.js';
import { RateLimitSchema } from '../../src/xds/gen/envoy/config/route/v3/route_components_pb.js';

/** Istio's global rate limit task, as route config: the virtual host sends PATH, the `api` route its own. */
export const ISTIO_VHOST_RATE_LIMITS = [
  { actions: [{ request_headers: { header_name: ':path', descriptor_key: 'PATH' } }] },
];
export const ISTIO_API_ROUTE_RATE_LIMITS = [
  {
    actions: [
      {
        header_value_match: {
          descriptor_key: 'PATH',
          descriptor_value: 'api',
          headers: [
            { name: ':path', safe_regex_match: { google_re2: {}, regex: '/api/v1/products/[1-9]{1,2}' } },
          ],
        },
      },
    ],
  },
];

function policies(json: unknown[], where: string): RateLimitPolicyEntry[] {
  return rateLimitPolicyFromProto(
    json.map((j) => messageFromJson(RateLimitSchema, j as never)),
    where,
  );
}

export interface Gateway {
  readonly url: string;
  close(): Promise<void>;
}

/** Routes `/api/v1/products*` to the `api` route, everything else to the default route. */
export async function startGateway(filter: GlobalRateLimitFilter): Promise<Gateway> {
  const vhost = policies(ISTIO_VHOST_RATE_LIMITS, 'virtual host "*:8080"');
  const api = policies(ISTIO_API_ROUTE_RATE_LIMITS, 'route "api"');
  const server: Server = createServer(async (req, res) => {
    const path = req.url ?? '/';
    const route = path.startsWith('/api/v1/products') ? api : [];
    const descriptors = generateDescriptors(selectRateLimitPolicies({ route, virtualHost: vhost }), {
      header: (name) => (name === ':path' ? path : (req.headers[name] as string | undefined)),
      remoteAddress: req.socket.remoteAddress ?? '',
    });
    const decision = await filter.check(descriptors);
    if (decision.action === 'deny') {
      for (const h of decision.responseHeadersToAdd) res.setHeader(h.name, h.value);
      res.setHeader('x-trellis-reason', `${decision.flag} ${decision.reason}`);
      res.writeHead(decision.status).end(decision.body);
      return;
    }
    for (const h of decision.responseHeadersToAdd) res.setHeader(h.name, h.value);
    res.writeHead(200).end('productpage');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
