// Envoy's ext_authz filter: ask an authorization service (HTTP or gRPC), apply its answer or the failure mode.

import { type Clock, systemClock } from '../../../shared/clock.js';
import { errorMessage } from '../../../shared/errors.js';
import { type Logger, silentLogger } from '../../../shared/log.js';
import type { ExtAuthzConfig } from '../../config/model.js';
import type { DynamicMetadata, RequestContext } from '../context.js';
import { emptyEdits, type HeaderEdits, type HeaderValue } from '../header-edits.js';
import { compileMetadataMatcher } from '../metadata-match.js';
import { buildCheckRequest, type CheckRequestInfo, readCheckResponse } from './grpc-check.js';
import { buildHttpCheck, type CheckVerdict, readHttpCheck } from './http-check.js';
import type { ExtAuthzTransport } from './transport.js';

export type ExtAuthzResult =
  | {
      /** `filter_enabled_metadata` did not match (Istio: no CUSTOM policy applies): no call was made. */
      action: 'skip';
    }
  | {
      action: 'allow';
      /** Header changes for the upstream request. */
      headers: HeaderEdits;
      /** Headers for the client response (gRPC `response_headers_to_add`). */
      responseHeaders: HeaderValue[];
      /** The service failed and `failure_mode_allow` let the request through. */
      failedOpen: boolean;
    }
  | {
      action: 'deny';
      status: number;
      body: string;
      responseHeaders: HeaderValue[];
      /** Envoy's response flag for both denials and errors. */
      flag: 'UAEX';
      /** True when the service failed (timeout, 5xx, unreachable) rather than said no. */
      error: boolean;
      /** Why, naming the cluster, for `x-trellis-reason` and logs. */
      reason: string;
    };

/** Envoy's `ext_authz.*` counters. */
export interface ExtAuthzStats {
  ok: number;
  denied: number;
  error: number;
  failure_mode_allowed: number;
  disabled: number;
}

export interface ExtAuthzFilterOptions {
  transport: ExtAuthzTransport;
  clock?: Clock;
  logger?: Logger;
}

const SKIP: ExtAuthzResult = Object.freeze({ action: 'skip' });

export class ExtAuthzFilter {
  readonly config: ExtAuthzConfig;
  readonly stats: ExtAuthzStats = { ok: 0, denied: 0, error: 0, failure_mode_allowed: 0, disabled: 0 };
  readonly #transport: ExtAuthzTransport;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #enabled: ((metadata: DynamicMetadata) => boolean) | undefined;

  constructor(config: ExtAuthzConfig, opts: ExtAuthzFilterOptions) {
    this.config = config;
    this.#transport = opts.transport;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger ?? silentLogger;
    this.#enabled = config.enabledMetadata ? compileMetadataMatcher(config.enabledMetadata) : undefined;
  }

  get #cluster(): string {
    return this.config.service.cluster;
  }

  async check(ctx: RequestContext, info: CheckRequestInfo = {}): Promise<ExtAuthzResult> {
    if (this.#enabled && !this.#enabled(ctx.metadata)) {
      this.stats.disabled++;
      return SKIP;
    }
    let verdict: CheckVerdict;
    const service = this.config.service;
    try {
      if (service.kind === 'http') {
        const res = await this.#transport.httpCheck(buildHttpCheck(service, ctx));
        verdict = readHttpCheck(service, res);
      } else {
        const res = await this.#transport.grpcCheck({
          cluster: service.cluster,
          request: buildCheckRequest(ctx, info, this.#clock.now()),
          timeoutMs: service.timeoutMs,
        });
        verdict = readCheckResponse(res);
      }
    } catch (e) {
      verdict = { kind: 'error', reason: errorMessage(e) };
    }
    switch (verdict.kind) {
      case 'ok':
        this.stats.ok++;
        return {
          action: 'allow',
          headers: verdict.edits,
          responseHeaders: verdict.responseHeaders,
          failedOpen: false,
        };
      case 'denied':
        this.stats.denied++;
        return {
          action: 'deny',
          status: verdict.status,
          body: verdict.body,
          responseHeaders: verdict.responseHeaders,
          flag: 'UAEX',
          error: false,
          reason: `denied by the authorization service of cluster "${this.#cluster}" (status ${verdict.status})`,
        };
      case 'error':
        return this.#failed(verdict.reason);
    }
  }

  #failed(reason: string): ExtAuthzResult {
    this.stats.error++;
    const message = `authorization service of cluster "${this.#cluster}" failed: ${reason}`;
    if (this.config.failureModeAllow) {
      this.stats.failure_mode_allowed++;
      this.#logger.warn(`${message}; allowing the request (failure_mode_allow)`);
      return { action: 'allow', headers: emptyEdits(), responseHeaders: [], failedOpen: true };
    }
    this.#logger.warn(message);
    return {
      action: 'deny',
      status: this.config.statusOnError || 403,
      body: '',
      responseHeaders: [],
      flag: 'UAEX',
      error: true,
      reason: message,
    };
  }
}
