// The control plane's HTTP API: what the lead wires (createApiServer, the view interfaces) and its JSON types.

export type { ApiDeps } from './deps.js';
export { EventHub } from './events.js';
export { type JsonHandler, type RawHandler, Reply, type RouteContext, Router } from './router.js';
export { type ApiServer, createApiServer, DEFAULT_ASSETS_DIR } from './server.js';
export type * from './types.js';
export type { ChangeListener, ConfigView, ProxyView, RuntimeView, TelemetryView } from './views.js';
