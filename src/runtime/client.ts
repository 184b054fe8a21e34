// The CLI's side of the daemon's API: finds a running mesh by name and calls /api/v1/runtime/*.

import http from 'node:http';
import type { Writable } from 'node:stream';
import type { Resource, ResourceRef } from '../api/types/meta.js';
import { TrellisError } from '../shared/errors.js';
import { RUNTIME_API } from './api-routes.js';
import type { LoadedManifest } from './manifests.js';
import type { ApplyOutcome, MeshStatus } from './mesh.js';
import { MeshPaths, meshStateDir, readJson, runningDaemon } from './state-dir.js';

export interface ExecSpec {
  pod: string;
  namespace: string;
  container: string;
  execPrefix: string[];
  env: Record<string, string>;
  cwd: string;
  ready: boolean;
}

const REQUEST_TIMEOUT_MS = 60_000;

interface Reply {
  status: number;
  body: string;
}

export class MeshClient {
  readonly paths: MeshPaths;
  readonly #host: string;
  readonly #port: number;

  constructor(paths: MeshPaths, api: string) {
    this.paths = paths;
    const i = api.lastIndexOf(':');
    this.#host = api.slice(0, i);
    this.#port = Number(api.slice(i + 1));
  }

  /** The client of the mesh `name`; throws a clear error when it does not run. */
  static connect(name: string, env: NodeJS.ProcessEnv = process.env): MeshClient {
    const paths = new MeshPaths(name, meshStateDir(name, env));
    const pid = runningDaemon(paths);
    if (pid === undefined) {
      throw new TrellisError(
        'MESH_NOT_RUNNING',
        `mesh "${name}" is not running (no daemon for ${paths.root}); start it with \`trellis up${name === 'default' ? '' : ` --name ${name}`}\``,
      );
    }
    const status = readJson<MeshStatus>(paths.statusFile);
    if (!status?.addresses.api) {
      throw new TrellisError(
        'MESH_STARTING',
        `mesh "${name}" (pid ${pid}) has not published its API address yet; try again in a moment`,
      );
    }
    return new MeshClient(paths, status.addresses.api);
  }

  #request(method: string, path: string, body?: unknown, out?: Writable): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          host: this.#host,
          port: this.#port,
          method,
          path,
          agent: false,
          headers: data
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }
            : {},
        },
        (res) => {
          if (out && res.statusCode === 200) {
            res.on('data', (d: Buffer) => out.write(d));
            res.once('end', () => resolve({ status: 200, body: '' }));
            res.once('error', reject);
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.once('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.once('error', reject);
        },
      );
      // A wedged daemon must not hang the CLI; only a followed log stream may stay open.
      if (!out) {
        req.setTimeout(REQUEST_TIMEOUT_MS, () =>
          req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)),
        );
      }
      req.once('error', (e) =>
        reject(
          new TrellisError(
            'MESH_UNREACHABLE',
            `cannot reach mesh "${this.paths.name}" at ${this.#host}:${this.#port}: ${e.message}`,
          ),
        ),
      );
      req.end(data);
    });
  }

  async #json<T>(method: string, path: string, body?: unknown, okStatuses: number[] = [200]): Promise<T> {
    const r = await this.#request(method, `${RUNTIME_API}${path}`, body);
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.body);
    } catch {
      throw new TrellisError(
        'BAD_REPLY',
        `mesh "${this.paths.name}" answered ${r.status}: ${r.body.slice(0, 200)}`,
      );
    }
    if (!okStatuses.includes(r.status)) {
      const err = parsed as { error?: string; code?: string };
      throw new TrellisError(
        err.code ?? 'API_ERROR',
        err.error ?? `mesh "${this.paths.name}" answered ${r.status}`,
      );
    }
    return parsed as T;
  }

  status(): Promise<MeshStatus> {
    return this.#json('GET', '/status');
  }

  apply(manifests: LoadedManifest[]): Promise<ApplyOutcome> {
    return this.#json('POST', '/apply', { manifests }, [200, 422]);
  }

  delete(refs: ResourceRef[]): Promise<ApplyOutcome> {
    return this.#json('POST', '/delete', { refs }, [200, 422]);
  }

  async list(kind: string, o: { name?: string; namespace?: string } = {}): Promise<Resource[]> {
    const q = new URLSearchParams();
    if (o.name) q.set('name', o.name);
    if (o.namespace) q.set('namespace', o.namespace);
    const r = await this.#json<{ items: Resource[] }>('GET', `/resources/${encodeURIComponent(kind)}?${q}`);
    return r.items;
  }

  execSpec(pod: string, o: { container?: string; namespace?: string } = {}): Promise<ExecSpec> {
    const q = new URLSearchParams();
    if (o.container) q.set('container', o.container);
    if (o.namespace) q.set('namespace', o.namespace);
    return this.#json('GET', `/pods/${encodeURIComponent(pod)}/exec?${q}`);
  }

  async logs(
    pod: string,
    out: Writable,
    o: { container?: string; namespace?: string; follow?: boolean; tail?: number } = {},
  ): Promise<void> {
    const q = new URLSearchParams();
    if (o.container) q.set('container', o.container);
    if (o.namespace) q.set('namespace', o.namespace);
    if (o.follow) q.set('follow', '1');
    if (o.tail !== undefined) q.set('tail', String(o.tail));
    const r = await this.#request(
      'GET',
      `${RUNTIME_API}/pods/${encodeURIComponent(pod)}/logs?${q}`,
      undefined,
      out,
    );
    if (r.status !== 200) {
      let msg = r.body;
      try {
        msg = (JSON.parse(r.body) as { error: string }).error;
      } catch {
        // Not JSON: quote it as it is.
      }
      throw new TrellisError('LOGS_FAILED', msg);
    }
  }

  async shutdown(): Promise<number> {
    const r = await this.#json<{ pid: number }>('POST', '/shutdown', undefined, [202]);
    return r.pid;
  }
}
