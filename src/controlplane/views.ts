// Adapters from the control plane's parts (config store, analyzers, xDS sync status) to the HTTP API's views.

import { analyze, loadText, unpositioned, validateResources } from '../api/index.js';
import type { ConfigMessage as ApiMessage } from '../api/messages.js';
import type { Resource, ResourceRef } from '../api/types/index.js';
import type { ConfigStore } from '../config/store.js';
import { TrellisError } from '../shared/errors.js';
import { SHORT_TYPE, type XdsTypeUrl } from '../xds/type-urls.js';
import type {
  ApplyResult,
  BatchMessage,
  ConfigItem,
  ConfigMessage,
  MeshStatus,
  ProxyStatus,
  XdsTypeStatus,
} from './api/types.js';
import type { ChangeListener, ConfigView, ProxyView, RuntimeView } from './api/views.js';
import type { AdsServer, ProxySyncStatus } from './server/index.js';

const LEVEL = { error: 'Error', warning: 'Warning', info: 'Info' } as const;

function refKey(r: { kind: string; namespace?: string; name: string }): string {
  return `${r.kind}/${r.namespace ?? ''}/${r.name}`;
}

function refOf(r: Resource): ResourceRef {
  return { kind: r.kind, namespace: r.metadata.namespace ?? 'default', name: r.metadata.name };
}

function toApiMessage(m: ApiMessage): ConfigMessage {
  return { level: LEVEL[m.severity], code: m.code, message: m.path ? `${m.path}: ${m.message}` : m.message };
}

function toBatchMessage(m: ApiMessage): BatchMessage {
  return {
    ...toApiMessage(m),
    ...(m.resource
      ? { resource: { kind: m.resource.kind, namespace: m.resource.namespace, name: m.resource.name } }
      : {}),
    ...(m.position ? { source: { file: m.position.file, line: m.position.line } } : {}),
  };
}

function isSynced(p: ProxySyncStatus): boolean {
  return (
    p.types.length > 0 &&
    p.types.every((t) => t.state === 'SYNCED' && (!t.currentVersion || t.acked?.version === t.currentVersion))
  );
}

function hasNack(p: ProxySyncStatus): boolean {
  return p.types.some((t) => t.lastNack && (!t.acked || t.lastNack.at >= (t.acked.at ?? 0)));
}

export function configView(opts: {
  config: ConfigStore;
  ads: AdsServer;
  /** The config revision each group's current snapshot was built from. */
  groupRevision: (group: string) => number | undefined;
}): ConfigView {
  const { config, ads } = opts;
  let cached: { revision: number; messages: Map<string, ConfigMessage[]> } | undefined;
  const analysis = (): Map<string, ConfigMessage[]> => {
    if (cached?.revision === config.revision) return cached.messages;
    const resources = config.list().map((r) => unpositioned(r));
    const byRef = new Map<string, ConfigMessage[]>();
    for (const m of analyze(resources)) {
      if (!m.resource) continue;
      const key = refKey(m.resource);
      const list = byRef.get(key) ?? [];
      list.push(toApiMessage(m));
      byRef.set(key, list);
    }
    cached = { revision: config.revision, messages: byRef };
    return byRef;
  };
  const parse = (text: string): Resource[] => {
    const loaded = loadText(text, 'request');
    const problems = [...loaded.messages, ...validateResources(loaded.resources)].filter(
      (m) => m.severity === 'error',
    );
    if (problems.length > 0) {
      throw new TrellisError(
        'CONFIG_INVALID',
        `the batch has ${problems.length} error(s); nothing was changed`,
        {
          messages: problems.map(toBatchMessage),
        },
      );
    }
    return loaded.resources.map((l) => l.resource);
  };
  return {
    list(filter) {
      const messages = analysis();
      const proxies = ads.proxyStatus();
      return config.list(filter).map((r): ConfigItem => {
        const rv = Number(r.metadata.resourceVersion ?? 0);
        let acked = 0;
        let nacked = 0;
        for (const p of proxies) {
          if (hasNack(p)) nacked++;
          else if (isSynced(p) && (opts.groupRevision(p.group ?? '') ?? -1) >= rv) acked++;
        }
        return {
          kind: r.kind,
          namespace: r.metadata.namespace ?? '',
          name: r.metadata.name,
          apiVersion: r.apiVersion,
          resourceVersion: r.metadata.resourceVersion ?? '',
          ...(r.metadata.labels ? { labels: r.metadata.labels } : {}),
          spec: r.spec,
          messages:
            messages.get(refKey({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name })) ??
            [],
          appliedTo: { total: proxies.length, acked, nacked },
        };
      });
    },
    async apply(text): Promise<ApplyResult> {
      const resources = parse(text);
      const existed = new Set(resources.filter((r) => config.get(refOf(r))).map((r) => refKey(refOf(r))));
      const result = await config.apply(resources);
      if (!result.ok) {
        throw new TrellisError('CONFIG_INVALID', 'the batch was refused; nothing was changed', {
          messages: result.messages.map(toBatchMessage),
        });
      }
      const changed = new Set(result.events.map((e) => refKey(refOf(e.resource))));
      return {
        resources: resources.map((r) => {
          const ref = refOf(r);
          const key = refKey(ref);
          const stored = config.get(ref);
          return {
            kind: r.kind,
            namespace: stored?.metadata.namespace ?? ref.namespace,
            name: r.metadata.name,
            action: !changed.has(key) ? 'unchanged' : existed.has(key) ? 'configured' : 'created',
            ...(stored?.metadata.resourceVersion ? { resourceVersion: stored.metadata.resourceVersion } : {}),
          };
        }),
        messages: result.messages.map(toBatchMessage),
      };
    },
    async delete(text): Promise<ApplyResult> {
      const refs: ResourceRef[] = parse(text).map(refOf);
      const result = await config.delete(refs);
      if (!result.ok) {
        throw new TrellisError('CONFIG_NOT_FOUND', 'nothing was deleted', {
          messages: result.messages.map(toBatchMessage),
          status: 404,
        });
      }
      return { resources: refs.map((r) => ({ ...r, action: 'deleted' as const })), messages: [] };
    },
    subscribe(listener: ChangeListener) {
      return config.watch(() => listener());
    },
  };
}

export function proxyView(ads: AdsServer): ProxyView {
  return {
    list() {
      return ads.proxyStatus().map((p): ProxyStatus => {
        const md = p.metadata;
        const labels =
          md.LABELS && typeof md.LABELS === 'object' && !Array.isArray(md.LABELS)
            ? (md.LABELS as Record<string, string>)
            : undefined;
        const xds: Record<string, XdsTypeStatus> = {};
        for (const t of p.types) {
          xds[SHORT_TYPE[t.typeUrl as XdsTypeUrl] ?? t.typeUrl] = {
            state: t.state === 'SYNCED' ? 'SYNCED' : t.state === 'NOT SENT' ? 'NOT SENT' : 'STALE',
            ...(t.sent ? { sent: t.sent.version } : {}),
            ...(t.acked ? { acked: t.acked.version } : {}),
            ...(t.lastNack
              ? { lastNack: { version: t.lastNack.version, message: t.lastNack.message, at: t.lastNack.at } }
              : {}),
          };
        }
        return {
          id: p.proxyId,
          pod: String(md.NAME ?? p.proxyId),
          namespace: String(md.NAMESPACE ?? ''),
          workload: String(md.WORKLOAD_NAME ?? ''),
          ...(labels ? { labels } : {}),
          ...(typeof md.TRELLIS_VERSION === 'string' ? { version: md.TRELLIS_VERSION } : {}),
          connectedSince: p.connectedAt,
          xds,
        };
      });
    },
  };
}

/** The runtime's view once it registers; until then a standalone control plane reports its own addresses. */
export class RuntimeSlot implements RuntimeView {
  #view: RuntimeView | undefined;
  readonly #fallback: () => MeshStatus;
  readonly #listeners = new Set<ChangeListener>();

  constructor(fallback: () => MeshStatus) {
    this.#fallback = fallback;
  }

  set(view: RuntimeView | undefined): void {
    this.#view = view;
    view?.subscribe?.(() => {
      for (const l of this.#listeners) l();
    });
    for (const l of this.#listeners) l();
  }

  status(): MeshStatus {
    return this.#view?.status() ?? this.#fallback();
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
