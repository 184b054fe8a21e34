// helloworld: says which version and which instance answered, so a client can watch traffic move between them.

import type { RequestListener } from 'node:http';
import { pathOf, sendText } from '../../shared/http-util.js';

export interface HelloworldOptions {
  /** SERVICE_VERSION: `v1`, `v2`, or a locality such as `region1.zone1` in the failover task. */
  version: string | undefined;
  /** The pod name (HOSTNAME). */
  instance: string | undefined;
}

export function createHelloworldHandler(opts: HelloworldOptions): RequestListener {
  return (req, res) => {
    const path = pathOf(req);
    if (path === '/hello') {
      // Python prints a missing value as `None`; keep the shape of Istio's reply.
      sendText(
        res,
        200,
        `Hello version: ${opts.version ?? 'None'}, instance: ${opts.instance ?? 'None'}\n`,
        'text/html',
      );
    } else if (path === '/health') {
      sendText(res, 200, 'Helloworld is healthy', 'text/html');
    } else {
      sendText(res, 404, 'Not Found\n');
    }
  };
}
