// The daemon's HTTP routes under /api/v1/runtime, mounted on the control plane's API server for the CLI.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { ResourceRef } from '../api/types/meta.js';
import { errorMessage, isTrellisError, TrellisError } from '../shared/errors.js';
import type { ControlPlaneApi, RouteContext } from './control-plane.js';
import { INGRESS_NAME } from './ingress.js';
import { copyLog } from './log-follow.js';
import type { LoadedManifest } from './manifests.js';
import type { Mesh } from './mesh.js';
import type { Pod } from './pod.js';

export const RUNTIME_API = '/api/v1/runtime';
const MAX_BODY = 32 * 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new TrellisError('BODY_TOO_LARGE', `request body over ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch (e) {
    throw new TrellisError('BAD_REQUEST', `the body is not JSON: ${errorMessage(e)}`);
  }
}

function statusOf(e: unknown): number {
  if (!isTrellisError(e)) return 500;
  if (e.code === 'NOT_FOUND') return 404;
  if (e.code === 'MESH_STOPPING') return 503;
  return 400;
}

function guarded(handler: (ctx: RouteContext) => Promise<void>): (ctx: RouteContext) => Promise<void> {
  return async (ctx) => {
    try {
      await handler(ctx);
    } catch (e) {
      if (ctx.res.headersSent) {
        ctx.res.destroy();
        return;
      }
      send(ctx.res, statusOf(e), { error: errorMessage(e), code: isTrellisError(e) ? e.code : 'INTERNAL' });
    }
  };
}

function podOf(mesh: Mesh, ctx: RouteContext): Pod {
  const name = ctx.params.name ?? '';
  const ns = ctx.url.searchParams.get('namespace') ?? undefined;
  const pod = mesh.findPod(name, ns);
  if (!pod)
    throw new TrellisError(
      'NOT_FOUND',
      `pod "${name}"${ns ? ` in namespace ${ns}` : ''} not found; \`trellis status\` lists the pods`,
    );
  return pod;
}

/** `app` (the first app container), `proxy` (the sidecar) or a container name. */
function containerName(pod: Pod, requested: string | null): string {
  const names = pod.plan.containers.map((c) => c.name);
  if (!requested || requested === 'app') return names[0]!;
  if (requested === 'proxy' || requested === 'istio-proxy') {
    if (!pod.plan.hasSidecar)
      throw new TrellisError(
        'NOT_FOUND',
        `pod ${pod.plan.name} has no sidecar (sidecar.istio.io/inject: "false")`,
      );
    return 'istio-proxy';
  }
  if (!names.includes(requested))
    throw new TrellisError(
      'NOT_FOUND',
      `pod ${pod.plan.name} has no container "${requested}"; it has ${names.join(', ')}${pod.plan.hasSidecar ? ' and proxy' : ''}`,
    );
  return requested;
}

export interface RuntimeRouteOptions {
  mesh: Mesh;
  /** Called after the reply to POST /shutdown is sent. */
  onShutdown: () => void;
}

export function mountRuntimeRoutes(api: ControlPlaneApi, o: RuntimeRouteOptions): void {
  const { mesh } = o;
  api.route(
    'GET',
    `${RUNTIME_API}/status`,
    guarded(async ({ res }) => send(res, 200, mesh.status())),
  );

  api.route(
    'GET',
    `${RUNTIME_API}/pods/:name/logs`,
    guarded(async ({ req, res, url, params }) => {
      const q = url.searchParams;
      let path: string;
      if ((params.name ?? '').startsWith(INGRESS_NAME)) {
        path = mesh.status().ingress?.log ?? '';
        if (!path)
          throw new TrellisError(
            'NOT_FOUND',
            'no ingress gateway runs: no Gateway selects istio: ingressgateway',
          );
      } else {
        const pod = podOf(mesh, { req, res, url, params });
        path = pod.logFile(containerName(pod, q.get('container')));
      }
      const abort = new AbortController();
      req.once('close', () => abort.abort());
      const unsubscribe = mesh.subscribe(() => {
        if (mesh.phase === 'stopped') abort.abort();
      });
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      const tail = q.get('tail');
      await copyLog({
        path,
        out: res,
        follow: q.get('follow') === '1',
        signal: abort.signal,
        ...(tail ? { tailLines: Number(tail) } : {}),
      });
      unsubscribe();
      res.end();
    }),
  );

  api.route(
    'GET',
    `${RUNTIME_API}/pods/:name/exec`,
    guarded(async (ctx) => {
      const pod = podOf(mesh, ctx);
      const name = containerName(pod, ctx.url.searchParams.get('container'));
      const container = pod.plan.containers.find((c) => c.name === name);
      const env = container
        ? pod.containerEnv(container)
        : { ...pod.runtimeEnv(), PATH: process.env.PATH ?? '/usr/bin:/bin' };
      send(ctx.res, 200, {
        pod: pod.plan.name,
        namespace: pod.plan.namespace,
        container: name,
        execPrefix: pod.execPrefix,
        env,
        cwd: join(pod.plan.baseDir, container?.workingDir ?? '.'),
        ready: pod.ready,
      });
    }),
  );

  api.route(
    'POST',
    `${RUNTIME_API}/apply`,
    guarded(async ({ req, res }) => {
      const body = (await readBody(req)) as { manifests?: LoadedManifest[] };
      if (!Array.isArray(body.manifests))
        throw new TrellisError('BAD_REQUEST', 'expected {"manifests": [...]}');
      const out = await mesh.apply(body.manifests);
      send(res, out.ok ? 200 : 422, out);
    }),
  );

  api.route(
    'POST',
    `${RUNTIME_API}/delete`,
    guarded(async ({ req, res }) => {
      const body = (await readBody(req)) as { refs?: ResourceRef[] };
      if (!Array.isArray(body.refs)) throw new TrellisError('BAD_REQUEST', 'expected {"refs": [...]}');
      const out = await mesh.delete(body.refs);
      send(res, out.ok ? 200 : 422, out);
    }),
  );

  api.route(
    'GET',
    `${RUNTIME_API}/resources/:kind`,
    guarded(async ({ res, url, params }) => {
      const ns = url.searchParams.get('namespace') ?? undefined;
      const name = url.searchParams.get('name');
      const kind = params.kind ?? '';
      if (kind === 'Pod') {
        const pods = mesh
          .status()
          .pods.filter((p) => (!ns || p.namespace === ns) && (!name || p.name === name));
        send(res, 200, { items: pods });
        return;
      }
      const items = mesh.list(kind, ns).filter((r) => !name || r.metadata.name === name);
      send(res, 200, { items });
    }),
  );

  api.route(
    'POST',
    `${RUNTIME_API}/shutdown`,
    guarded(async ({ res }) => {
      send(res, 202, { stopping: true, pid: process.pid });
      res.once('finish', () => o.onShutdown());
    }),
  );
}
