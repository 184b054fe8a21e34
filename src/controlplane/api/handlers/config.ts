// /api/v1/config: list with messages and convergence, one resource, apply and delete (YAML or JSON batches).

import { KINDS } from '../../../api/types/index.js';
import { isTrellisError, TrellisError } from '../../../shared/errors.js';
import { type AppliesToTarget, configAppliesTo } from '../applies-to.js';
import { readBody } from '../body.js';
import type { HandlerDeps } from '../deps.js';
import { badRequest } from '../params.js';
import type { RouteContext, Router } from '../router.js';
import type { ApplyResult, ConfigItem, ConfigListResponse } from '../types.js';

/** `VirtualService`, `virtualservices`, `vs` (any case) all name the kind VirtualService. */
export function normalizeKind(raw: string): string {
  const lower = raw.toLowerCase();
  for (const info of Object.values(KINDS)) {
    if (
      info.kind.toLowerCase() === lower ||
      info.plural === lower ||
      (info.shortNames as readonly string[]).includes(lower)
    ) {
      return info.kind;
    }
  }
  return raw;
}

export function configCounts(items: readonly ConfigItem[]): ConfigListResponse['counts'] {
  const counts = { resources: items.length, errors: 0, warnings: 0, info: 0 };
  for (const i of items) {
    for (const m of i.messages) {
      if (m.level === 'Error') counts.errors++;
      else if (m.level === 'Warning') counts.warnings++;
      else counts.info++;
    }
  }
  return counts;
}

const hostPattern = /^[A-Za-z0-9*][A-Za-z0-9.*-]*$/;

/** The applies-to target from `service=<host>` (repeatable) and/or `workload=<namespace>/<name>`. */
function appliesToTarget(deps: HandlerDeps, query: URLSearchParams): AppliesToTarget | undefined {
  const hosts = query.getAll('service').filter(Boolean);
  const workload = query.get('workload');
  if (!hosts.length && !workload) return undefined;
  for (const h of hosts) if (!hostPattern.test(h)) throw badRequest(`service="${h}" is not a host name`);
  const proxies = deps.proxies.list();
  const labels: Record<string, string>[] = [];
  let namespace: string;
  if (workload) {
    const slash = workload.indexOf('/');
    if (slash <= 0) throw badRequest(`workload="${workload}" must be <namespace>/<name>`);
    namespace = workload.slice(0, slash);
    const name = workload.slice(slash + 1);
    for (const p of proxies)
      if (p.namespace === namespace && p.workload === name && p.labels) labels.push(p.labels);
  } else {
    // <name>.<namespace>.svc.<domain>, else the namespace parameter.
    const parts = hosts[0]!.split('.');
    namespace = query.get('namespace') || (parts[2] === 'svc' ? parts[1]! : 'default');
    const names = new Set(hosts.map((h) => h.split('.')[0]));
    // Istio's convention (and Bookinfo's): a service selects pods whose `app` label is its name.
    for (const p of proxies) {
      if (p.namespace === namespace && p.labels && names.has(p.labels.app)) labels.push(p.labels);
    }
  }
  return { hosts, namespace, labels };
}

function list(deps: HandlerDeps, { url }: RouteContext): ConfigListResponse {
  const kind = url.searchParams.get('kind');
  const namespace = url.searchParams.get('namespace');
  const filter: { kind?: string; namespace?: string } = {};
  if (kind) filter.kind = normalizeKind(kind);
  if (namespace) filter.namespace = namespace;
  let items = deps.config.list(filter);
  const target = appliesToTarget(deps, url.searchParams);
  if (target) {
    // Policies in the root namespace apply too, whatever namespace was asked for.
    const all = filter.namespace ? deps.config.list(filter.kind ? { kind: filter.kind } : {}) : items;
    items = configAppliesTo(all, target, { rootNamespace: deps.rootNamespace });
  }
  return { items, counts: configCounts(items) };
}

function find(deps: HandlerDeps, params: Record<string, string>): ConfigItem {
  const kind = normalizeKind(params.kind!);
  const item = deps.config
    .list({ kind, namespace: params.namespace! })
    .find((i) => i.kind === kind && i.namespace === params.namespace && i.name === params.name);
  if (!item) {
    throw new TrellisError('API_NOT_FOUND', `${kind} ${params.namespace}/${params.name} not found`);
  }
  return item;
}

/** Runs apply or delete; a TrellisError from the store is the user's batch at fault (400, or 404). */
async function change(
  deps: HandlerDeps,
  op: 'apply' | 'delete',
  text: string,
): Promise<{ result: ApplyResult }> {
  if (!text.trim()) throw badRequest(`empty body: send the resources to ${op} as YAML or JSON`);
  let result: ApplyResult;
  try {
    result = op === 'apply' ? await deps.config.apply(text) : await deps.config.delete(text);
  } catch (e) {
    if (isTrellisError(e) && !e.code.startsWith('API_') && !e.code.endsWith('_NOT_FOUND')) {
      const status = typeof e.details?.status === 'number' ? e.details.status : 400;
      throw new TrellisError(e.code, e.message, { ...e.details, status }, { cause: e });
    }
    throw e;
  }
  deps.hub.publish('config');
  return { result };
}

export function registerConfigRoutes(router: Router, deps: HandlerDeps): void {
  router.get('/api/v1/config', (ctx) => list(deps, ctx));
  router.get('/api/v1/config/:kind/:namespace/:name', ({ params }) => find(deps, params));
  router.post('/api/v1/config', async ({ req }) =>
    change(deps, 'apply', await readBody(req, deps.maxBodyBytes)),
  );
  router.delete('/api/v1/config', async ({ req }) =>
    change(deps, 'delete', await readBody(req, deps.maxBodyBytes)),
  );
  router.delete('/api/v1/config/:kind/:namespace/:name', ({ params }) => {
    const item = find(deps, params);
    const body = {
      apiVersion: item.apiVersion,
      kind: item.kind,
      metadata: { name: item.name, namespace: item.namespace },
    };
    return change(deps, 'delete', JSON.stringify(body));
  });
}
