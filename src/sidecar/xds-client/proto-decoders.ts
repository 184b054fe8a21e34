// Decoders that keep the Envoy messages as they are: for tests, tools and callers that validate elsewhere.

import type { ProtoResources, XdsDecoders } from './types.js';

export const protoDecoders: XdsDecoders<ProtoResources> = {
  listener: (m) => m,
  route: (m) => m,
  cluster: (m) => m,
  endpoint: (m) => m,
};
