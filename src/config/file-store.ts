// A ConfigStore backed by a folder of YAML files: edits on disk are picked up (fs.watch plus a debounced
// rescan); a file that becomes invalid is reported and its last good resources keep serving.

import { type FSWatcher, watch } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listConfigFiles, loadText } from '../api/load/load.js';
import { type ConfigMessage, formatMessage, hasErrors } from '../api/messages.js';
import type { Resource, ResourceRef } from '../api/types/meta.js';
import { formatRef, refKey } from '../api/types/meta.js';
import { validateResources } from '../api/validate/validate.js';
import { type Clock, systemClock, type Timer } from '../shared/clock.js';
import { TrellisError } from '../shared/errors.js';
import { type Logger, silentLogger } from '../shared/log.js';
import {
  normalizeNamespace,
  normalizeRef,
  type PlannedChange,
  ResourceTable,
  storeRef,
  type TableOptions,
} from './resource-table.js';
import type { ChangeResult, ConfigSnapshot, ConfigStore, ListFilter, StoreEvent } from './store.js';
import { newFileText, removeFromText, replaceInText, writeAtomically } from './yaml-writer.js';

export interface FileStoreOptions extends TableOptions {
  dir: string;
  /** Quiet time after the last change on disk before rescanning (editors write in several steps). */
  debounceMs?: number;
  /** Watch the folder (default true); without it, call rescan(). */
  watch?: boolean;
}

interface FileState {
  text: string;
  /** The resources of the last version of this file that was valid. */
  good: Map<string, Resource>;
  /** Problems of the current text; empty when it is valid. */
  problems: ConfigMessage[];
}

export class FileConfigStore implements ConfigStore {
  readonly #table: ResourceTable;
  readonly #dir: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #debounceMs: number;
  readonly #watching: boolean;
  readonly #files = new Map<string, FileState>();
  /** Which file each resource key comes from. */
  #owners = new Map<string, string>();
  readonly #watchers = new Map<string, FSWatcher>();
  #timer: Timer | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #problems: ConfigMessage[] = [];
  readonly #problemListeners = new Set<(problems: readonly ConfigMessage[]) => void>();
  #closed = false;

  private constructor(opts: FileStoreOptions) {
    this.#table = new ResourceTable(opts);
    this.#dir = opts.dir;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger ?? silentLogger;
    this.#debounceMs = opts.debounceMs ?? 100;
    this.#watching = opts.watch ?? true;
  }

  /** Reads the folder (creating it if needed) and starts watching it. */
  static async open(opts: FileStoreOptions): Promise<FileConfigStore> {
    await mkdir(opts.dir, { recursive: true });
    const store = new FileConfigStore(opts);
    await store.rescan();
    return store;
  }

  get revision(): number {
    return this.#table.revision;
  }

  get(ref: ResourceRef): Resource | undefined {
    return this.#table.get(ref);
  }

  list(filter?: ListFilter): readonly Resource[] {
    return this.#table.list(filter);
  }

  snapshot(): ConfigSnapshot {
    return this.#table.snapshot();
  }

  watch(listener: (event: StoreEvent) => void): () => void {
    return this.#table.watch(listener);
  }

  /** Current problems of files on disk (each file's last good version is still serving). */
  problems(): readonly ConfigMessage[] {
    return this.#problems;
  }

  /** Called whenever the set of problems changes (an edit broke or fixed a file). */
  onProblems(listener: (problems: readonly ConfigMessage[]) => void): () => void {
    this.#problemListeners.add(listener);
    return () => this.#problemListeners.delete(listener);
  }

  /** Reads the folder now; resolves with the changes it found. */
  rescan(): Promise<StoreEvent[]> {
    return this.#serialized(() => this.#scan());
  }

  async apply(resources: readonly Resource[]): Promise<ChangeResult> {
    const messages = this.#table.validateApply(resources);
    if (hasErrors(messages)) return this.#table.result(messages, []);
    return this.#serialized(async () => {
      const edits = new Map<string, string>();
      const refused: ConfigMessage[] = [];
      for (const raw of resources) {
        const r = normalizeNamespace(raw);
        const ref = storeRef(r);
        const owner = this.#owners.get(refKey(ref));
        if (!owner) {
          const file = this.#newFileName(r, edits);
          edits.set(file, newFileText(r));
          continue;
        }
        const state = this.#files.get(owner);
        const text = edits.get(owner) ?? state?.text ?? '';
        const next = state && state.problems.length === 0 ? replaceInText(text, r, ref) : undefined;
        if (next === undefined) {
          refused.push({
            severity: 'error',
            code: 'FileHasErrors',
            message: `cannot update ${owner}: it has errors; fix the file first`,
            resource: ref,
          });
        } else edits.set(owner, next);
      }
      if (refused.length) return this.#table.result([...messages, ...refused], []);
      for (const [file, text] of edits) await writeAtomically(file, text);
      return this.#table.result(messages, await this.#scan());
    });
  }

  async delete(refs: readonly ResourceRef[]): Promise<ChangeResult> {
    const missing = this.#table.validateDelete(refs);
    if (missing.length) return this.#table.result(missing, []);
    return this.#serialized(async () => {
      const edits = new Map<string, string>();
      for (const raw of refs) {
        const ref = normalizeRef(raw);
        const owner = this.#owners.get(refKey(ref));
        if (!owner) continue;
        const text = edits.get(owner) ?? this.#files.get(owner)?.text ?? '';
        const next = removeFromText(text, ref);
        if (next === undefined) {
          return this.#table.result(
            [
              {
                severity: 'error',
                code: 'FileHasErrors',
                message: `cannot delete from ${owner}: it has errors; fix the file first`,
                resource: ref,
              },
            ],
            [],
          );
        }
        edits.set(owner, next);
      }
      for (const [file, text] of edits) await writeAtomically(file, text);
      return this.#table.result([], await this.#scan());
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    await this.#queue.catch(() => undefined);
  }

  #serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #newFileName(r: Resource, taken: Map<string, string>): string {
    const base = `${r.kind.toLowerCase()}-${r.metadata.namespace ?? 'cluster'}-${r.metadata.name}`;
    let name = join(this.#dir, `${base}.yaml`);
    for (let i = 2; this.#files.has(name) || taken.has(name); i++)
      name = join(this.#dir, `${base}-${i}.yaml`);
    return name;
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.rescan().catch((e) =>
        this.#logger.error('rescan failed', { dir: this.#dir, error: (e as Error).message }),
      );
    }, this.#debounceMs);
  }

  #watchDirs(dirs: readonly string[]): void {
    if (!this.#watching || this.#closed) return;
    for (const dir of dirs) {
      if (this.#watchers.has(dir)) continue;
      try {
        const w = watch(dir, () => this.#schedule());
        w.on('error', () => {
          w.close();
          this.#watchers.delete(dir);
          this.#schedule();
        });
        this.#watchers.set(dir, w);
      } catch (e) {
        this.#logger.warn('cannot watch folder', { dir, error: (e as Error).message });
      }
    }
    for (const [dir, w] of this.#watchers) {
      if (!dirs.includes(dir)) {
        w.close();
        this.#watchers.delete(dir);
      }
    }
  }

  async #scan(): Promise<StoreEvent[]> {
    if (this.#closed) return [];
    let listing: { files: string[]; dirs: string[] };
    try {
      listing = await listConfigFiles(this.#dir);
    } catch (e) {
      throw new TrellisError(
        'ConfigDirUnreadable',
        `cannot read config folder ${this.#dir}: ${(e as Error).message}`,
      );
    }
    this.#watchDirs(listing.dirs);
    for (const file of [...this.#files.keys()]) if (!listing.files.includes(file)) this.#files.delete(file);
    for (const file of listing.files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        continue; // removed between listing and reading: the next scan sees it gone
      }
      const prev = this.#files.get(file);
      if (prev?.text === text) continue;
      const loaded = loadText(text, file);
      const problems = [...loaded.messages, ...validateResources(loaded.resources)].filter(
        (m) => m.severity === 'error',
      );
      if (problems.length) this.#files.set(file, { text, good: prev?.good ?? new Map(), problems });
      else {
        const good = new Map(
          loaded.resources.map((l) => [
            refKey(storeRef(normalizeNamespace(l.resource))),
            normalizeNamespace(l.resource),
          ]),
        );
        this.#files.set(file, { text, good, problems: [] });
      }
    }
    // The desired state: every file's last good resources; a resource defined in two files keeps the first.
    const desired = new Map<string, Resource>();
    const owners = new Map<string, string>();
    const duplicates: ConfigMessage[] = [];
    for (const file of [...this.#files.keys()].sort()) {
      for (const [key, r] of this.#files.get(file)!.good) {
        const first = owners.get(key);
        if (first) {
          duplicates.push({
            severity: 'error',
            code: 'DuplicateResource',
            message: `also defined in ${first}; this definition is ignored`,
            position: { file, line: 0, col: 0 },
            resource: storeRef(r),
          });
          continue;
        }
        owners.set(key, file);
        desired.set(key, r);
      }
    }
    this.#owners = owners;
    const changes: PlannedChange[] = [...desired].map(([key, next]) => ({ key, next }));
    for (const r of this.#table.list()) {
      const key = refKey(storeRef(r));
      if (!desired.has(key)) changes.push({ key, next: undefined });
    }
    const events = this.#table.commit(changes);
    this.#publishProblems([...[...this.#files.values()].flatMap((f) => f.problems), ...duplicates]);
    return events;
  }

  #publishProblems(problems: ConfigMessage[]): void {
    const same =
      problems.length === this.#problems.length &&
      problems.every((p, i) => formatMessage(p) === formatMessage(this.#problems[i]!));
    if (same) return;
    this.#problems = problems;
    for (const p of problems) {
      this.#logger.warn(`invalid config, last good version still serving: ${formatMessage(p)}`, {
        ...(p.resource ? { resource: formatRef(p.resource) } : {}),
      });
    }
    for (const l of [...this.#problemListeners]) l(problems);
  }
}
