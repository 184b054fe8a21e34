// ext_authz's checks sent through the sidecar's own clusters, as Envoy's async client sends them.

import type { Clock } from '../../../../shared/clock.js';
import { TrellisError } from '../../../../shared/errors.js';
import {
  CheckRequestSchema,
  type CheckResponse,
  CheckResponseSchema,
} from '../../../../xds/gen/envoy/service/auth/v3/external_auth_pb.js';
import type { ClusterManager } from '../../../runtime/contracts.js';
import type {
  ExtAuthzTransport,
  GrpcCheckRequest,
  HttpCheckRequest,
  HttpCheckResponse,
} from '../../../security/ext-authz/transport.js';
import type { HeaderValue } from '../../../security/header-edits.js';
import { responseOutcome } from '../../../upstream/outlier/outcome.js';
import { readBody } from '../../body.js';
import { Cancellation } from '../../cancel.js';
import { HeaderList } from '../../headers.js';
import { createRequest } from '../../message.js';
import { grpcUnary } from '../grpc-unary.js';
import { timeoutReason } from '../router/deadline.js';

const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';
/** A denial body is shown to the client; an authorization service has no business sending more. */
const MAX_CHECK_RESPONSE_BYTES = 1024 * 1024;
/** A gRPC timeout of 0 means "none"; a day stands in, as `grpc-timeout` holds at most 8 digits. */
const NO_TIMEOUT_MS = 24 * 3600 * 1000;

export interface ClusterExtAuthzTransportOptions {
  clusters: ClusterManager;
  clock: Clock;
  /** `grpc_service.envoy_grpc.authority`; empty or absent: derived from the cluster name (`grpcAuthority`). */
  grpcAuthority?: string;
}

/**
 * Checks go to the cluster the filter names (`http_service.server_uri.cluster`, `envoy_grpc.cluster_name`)
 * through `ClusterManager.get(...).request`, so they get the core's load balancing, pools, circuit breakers
 * and mesh mTLS, as Envoy's checks do. Unknown clusters, failed attempts and timeouts reject; the filter turns
 * a rejection into `status_on_error` or, with `failure_mode_allow`, lets the request through.
 */
export class ClusterExtAuthzTransport implements ExtAuthzTransport {
  readonly #clusters: ClusterManager;
  readonly #clock: Clock;
  readonly #grpcAuthority: string | undefined;

  constructor(opts: ClusterExtAuthzTransportOptions) {
    this.#clusters = opts.clusters;
    this.#clock = opts.clock;
    this.#grpcAuthority = opts.grpcAuthority || undefined;
  }

  async httpCheck(req: HttpCheckRequest): Promise<HttpCheckResponse> {
    const cluster = this.#clusters.get(req.cluster);
    if (cluster === undefined) {
      throw new TrellisError(
        'EXT_AUTHZ_NO_CLUSTER',
        `ext_authz cluster "${req.cluster}" is not known to the sidecar`,
      );
    }
    const signal = new Cancellation();
    const timer =
      req.timeoutMs > 0
        ? this.#clock.setTimeout(
            () => signal.abort(timeoutReason(`ext_authz check to "${req.cluster}" timed out`)),
            req.timeoutMs,
          )
        : undefined;
    try {
      // The check's `host` is the original authority; the transport carries it as the authority, not a header.
      let authority = '';
      const headers = new HeaderList();
      for (const h of req.headers) {
        if (h.name === 'host') authority = h.value;
        else if (h.name !== 'content-length') headers.add(h.name, h.value);
      }
      const attempt = await cluster.request(
        createRequest({ method: req.method, path: req.path, authority, headers }),
        { signal },
      );
      attempt.done(responseOutcome(attempt.response.status));
      const res = attempt.response;
      const { data } = await readBody(res.body, { limitBytes: MAX_CHECK_RESPONSE_BYTES });
      const out: HeaderValue[] = [];
      res.headers.forEach((value, name) => {
        out.push({ name, value });
      });
      return { status: res.status, headers: out, body: data };
    } catch (e) {
      if (signal.aborted) {
        throw new TrellisError(
          'EXT_AUTHZ_TIMEOUT',
          `ext_authz cluster "${req.cluster}" did not answer within ${req.timeoutMs} ms`,
          undefined,
          { cause: e },
        );
      }
      throw e;
    } finally {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
    }
  }

  grpcCheck(req: GrpcCheckRequest): Promise<CheckResponse> {
    return grpcUnary({
      clusters: this.#clusters,
      cluster: req.cluster,
      path: CHECK_PATH,
      authority: this.#grpcAuthority,
      request: req.request,
      requestSchema: CheckRequestSchema,
      responseSchema: CheckResponseSchema,
      timeoutMs: req.timeoutMs > 0 ? req.timeoutMs : NO_TIMEOUT_MS,
      clock: this.#clock,
    });
  }
}
