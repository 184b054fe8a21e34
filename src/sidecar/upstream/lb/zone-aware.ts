// The EDF family (round robin, least request, random): priority choice, panic, locality weighting, retries.

import { EdfScheduler } from './edf.js';
import type { Host } from './host.js';
import type { HostPicker, HostPickerFactory } from './host-picker.js';
import { choosePriority } from './priority-load.js';
import type { PriorityLevel, PrioritySet } from './priority-set.js';
import type { LbPolicyType, LbStats, LoadBalancer, PickContext } from './types.js';

const ALL = 0;
const HEALTHY = 1;
const DEGRADED = 2;

export interface ZoneAwareOptions {
  policy: LbPolicyType;
  set: PrioritySet;
  pickers: HostPickerFactory;
  localityWeighted: boolean;
  random: () => number;
  stats?: LbStats;
}

interface LevelState {
  level: PriorityLevel;
  /** [all, healthy, degraded, locality 0 healthy, locality 0 degraded, ...], built on first use. */
  pickers: (HostPicker | undefined)[];
  healthyLocalities: EdfScheduler<number> | undefined;
  degradedLocalities: EdfScheduler<number> | undefined;
}

export class ZoneAwareBalancer implements LoadBalancer {
  readonly policy: LbPolicyType;
  readonly #set: PrioritySet;
  readonly #factory: HostPickerFactory;
  readonly #random: () => number;
  readonly #stats: LbStats | undefined;
  readonly #levels: LevelState[];
  readonly #localityWeighted: boolean;

  constructor(opts: ZoneAwareOptions) {
    this.policy = opts.policy;
    this.#set = opts.set;
    this.#factory = opts.pickers;
    this.#random = opts.random;
    this.#stats = opts.stats;
    this.#localityWeighted = opts.localityWeighted;
    this.#levels = opts.set.levels.map((level) => ({
      level,
      pickers: [],
      healthyLocalities: opts.localityWeighted
        ? localityScheduler(level, 'healthy', opts.set.overprovisioningFactor)
        : undefined,
      degradedLocalities: opts.localityWeighted
        ? localityScheduler(level, 'degraded', opts.set.overprovisioningFactor)
        : undefined,
    }));
  }

  get load() {
    return this.#set.load;
  }

  pick(ctx?: PickContext): Host | undefined {
    const attempts = (ctx?.hostSelectionRetryCount ?? 0) + 1;
    let host: Host | undefined;
    for (let i = 0; i < attempts; i++) {
      host = this.#pickOnce();
      if (!host || !ctx?.shouldSelectAnotherHost?.(host)) return host;
    }
    return host;
  }

  #pickOnce(): Host | undefined {
    const chosen = choosePriority(this.#set.load, Math.floor(this.#random() * 100));
    const state = this.#levels[chosen >> 1];
    if (!state) return undefined;
    const degraded = (chosen & 1) === 1;
    if (this.#set.load.panic[chosen >> 1]) {
      if (this.#stats) this.#stats.lb_healthy_panic++;
      return this.#picker(state, ALL).pick();
    }
    if (this.#localityWeighted) {
      const locality = (degraded ? state.degradedLocalities : state.healthyLocalities)?.pick();
      if (locality !== undefined) return this.#picker(state, 3 + locality * 2 + (degraded ? 1 : 0)).pick();
    }
    return this.#picker(state, degraded ? DEGRADED : HEALTHY).pick();
  }

  #picker(state: LevelState, source: number): HostPicker {
    let picker = state.pickers[source];
    if (!picker) {
      picker = this.#factory(hostsOf(state.level, source));
      state.pickers[source] = picker;
    }
    return picker;
  }
}

function hostsOf(level: PriorityLevel, source: number): readonly Host[] {
  if (source === ALL) return level.hosts;
  if (source === HEALTHY) return level.healthy;
  if (source === DEGRADED) return level.degraded;
  const group = level.localities[(source - 3) >> 1];
  if (!group) return [];
  return (source - 3) % 2 === 0 ? group.healthy : group.degraded;
}

/**
 * Envoy's locality choice (`HostSetImpl::chooseLocality`): weighted round robin over localities with
 * effective weight = weight × min(1, factor × eligible / hosts), so a half-dead locality sheds load.
 */
function localityScheduler(
  level: PriorityLevel,
  which: 'healthy' | 'degraded',
  overprovisioningFactor: number,
): EdfScheduler<number> | undefined {
  const weights = new Map<number, number>();
  level.localities.forEach((g, i) => {
    const eligible = which === 'healthy' ? g.healthy.length : g.degraded.length;
    if (g.hosts.length === 0 || g.weight === 0) return;
    const availability = Math.min(1, ((overprovisioningFactor / 100) * eligible) / g.hosts.length);
    const effective = g.weight * availability;
    if (effective > 0) weights.set(i, effective);
  });
  if (weights.size === 0) return undefined;
  return new EdfScheduler([...weights.keys()], (i) => weights.get(i)!);
}
