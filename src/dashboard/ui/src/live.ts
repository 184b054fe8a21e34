// Live updates: one EventSource for the whole app; panels refetch when their topic changes, never on a timer.

import { useEffect, useState } from 'preact/hooks';
import type { EventTopic } from '../../../controlplane/api/types.js';
import { ApiError } from './api.js';

export type LiveState = 'connecting' | 'live' | 'offline';
type Listener = () => void;

class LiveEvents {
  #source: EventSource | undefined;
  readonly #byTopic = new Map<EventTopic, Set<Listener>>();
  readonly #stateListeners = new Set<(s: LiveState) => void>();
  #state: LiveState = 'connecting';
  #helloSeen = false;
  /** Server time of the newest event (the server's clock, not the browser's). */
  lastEventAt = 0;

  get state(): LiveState {
    return this.#state;
  }

  #setState(s: LiveState): void {
    this.#state = s;
    for (const l of this.#stateListeners) l(s);
  }

  connect(): void {
    if (this.#source) return;
    const es = new EventSource('/api/v1/events');
    this.#source = es;
    es.onopen = () => this.#setState('live');
    // EventSource reconnects by itself (the server asks for 2 s); show that we are behind meanwhile.
    es.onerror = () => this.#setState(es.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
    es.addEventListener('hello', (e) => {
      this.#note(e);
      this.#setState('live');
      // After a reconnect, anything may have changed while we were away.
      if (this.#helloSeen) for (const set of this.#byTopic.values()) for (const l of set) l();
      this.#helloSeen = true;
    });
    for (const topic of ['telemetry', 'config', 'proxies', 'status'] as const) {
      es.addEventListener(topic, (e) => {
        this.#note(e);
        for (const l of this.#byTopic.get(topic) ?? []) l();
      });
    }
  }

  #note(e: Event): void {
    try {
      this.lastEventAt = (JSON.parse((e as MessageEvent<string>).data) as { atMs: number }).atMs;
    } catch {
      // A malformed event still counts as a change; only the timestamp is lost.
    }
  }

  on(topics: readonly EventTopic[], l: Listener): () => void {
    for (const t of topics) {
      let set = this.#byTopic.get(t);
      if (!set) {
        set = new Set();
        this.#byTopic.set(t, set);
      }
      set.add(l);
    }
    return () => {
      for (const t of topics) this.#byTopic.get(t)?.delete(l);
    };
  }

  onState(l: (s: LiveState) => void): () => void {
    this.#stateListeners.add(l);
    return () => this.#stateListeners.delete(l);
  }
}

export const live = new LiveEvents();

export interface Resource<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
}

/**
 * Loads once, then again whenever one of `topics` changes. Loads never overlap: a change during a load
 * schedules exactly one more. Keeps showing the last data while reloading and after a failed reload; a
 * failure that may pass (network, 5xx) is retried after 1 s, 2 s, 4 s... up to 30 s.
 */
export function useLive<T>(
  load: () => Promise<T>,
  topics: readonly EventTopic[],
  deps: unknown[],
): Resource<T> {
  const [state, setState] = useState<Resource<T>>({ data: undefined, error: undefined, loading: true });
  useEffect(() => {
    let cancelled = false;
    let running = false;
    let again = false;
    let failures = 0;
    let retry: number | undefined;
    setState((s) => ({ ...s, loading: true }));
    const run = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      window.clearTimeout(retry);
      try {
        const data = await load();
        failures = 0;
        if (!cancelled) setState({ data, error: undefined, loading: false });
      } catch (e) {
        if (cancelled) return;
        setState((s) => ({ data: s.data, error: e as Error, loading: false }));
        // A dropped connection or a server error may pass; a 4xx (unknown trace, bad query) will not.
        if (!(e instanceof ApiError) || e.status >= 500) {
          retry = window.setTimeout(() => void run(), Math.min(30_000, 1000 * 2 ** failures++));
        }
      } finally {
        running = false;
        if (again && !cancelled) {
          again = false;
          void run();
        }
      }
    };
    void run();
    const off = live.on(topics, () => void run());
    return () => {
      cancelled = true;
      window.clearTimeout(retry);
      off();
    };
    // The caller lists what the loader depends on.
  }, deps);
  return state;
}

export function useLiveState(): LiveState {
  const [s, setS] = useState(live.state);
  useEffect(() => live.onState(setS), []);
  return s;
}
