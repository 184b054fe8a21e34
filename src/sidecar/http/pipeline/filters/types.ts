// The one shape every HTTP filter has: a layer around the next handler that passes on, answers, or throws.

import type { Clock } from '../../../../shared/clock.js';
import type { Logger } from '../../../../shared/log.js';
import type { HcmConfig, HttpFilterConfig } from '../../../config/model.js';
import type { PipelineDeps } from '../../../runtime/contracts.js';
import type { Handler } from '../../message.js';

/**
 * A filter wraps the rest of the chain. It reads the request (and, through `streamOf(ctx)`, what the
 * connection manager resolved: route, peer, flags), then calls `next`, answers itself, or throws.
 */
export type Filter = (next: Handler) => Handler;

/**
 * What a filter factory may use; built once per connection manager. Per-request facts (direction, peer,
 * route) are on the stream: `streamOf(ctx)`.
 */
export interface FilterEnv {
  readonly hcm: HcmConfig;
  readonly deps: PipelineDeps;
  readonly clock: Clock;
  /** Uniform in [0, 1). */
  readonly random: () => number;
  readonly logger: Logger;
}

/** Builds one filter from its decoded config, once per connection manager (never per request). */
export type FilterFactory = (config: HttpFilterConfig, env: FilterEnv) => Filter;
