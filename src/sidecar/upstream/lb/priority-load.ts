// Envoy's priority arithmetic: health × overprovisioning factor → load per priority, spill-over and panic.

/** Counts (or weights, under `weighted_priority_health`) of one priority level's hosts. */
export interface PriorityLevelHealth {
  total: number;
  healthy: number;
  degraded: number;
}

export interface PriorityLoadOptions {
  /** Envoy's `overprovisioning_factor` in percent: 140 means 1.4 (the default). */
  overprovisioningFactor: number;
  /** `healthy_panic_threshold` in percent (Envoy default 50; 0 disables panic). */
  panicThreshold: number;
}

/** Where load goes: percentages summing to 100 over healthy and degraded hosts of each priority. */
export interface PriorityLoad {
  readonly healthyLoad: readonly number[];
  readonly degradedLoad: readonly number[];
  /** Per priority: too few healthy hosts, so the level balances over all of its hosts. */
  readonly panic: readonly boolean[];
  /** Per priority: min(100, factor × healthy / total), Envoy's "health". */
  readonly health: readonly number[];
  readonly degradedAvailability: readonly number[];
}

export const DEFAULT_OVERPROVISIONING_FACTOR = 140;
export const DEFAULT_PANIC_THRESHOLD = 50;

/**
 * Computes Envoy's per-priority load (`LoadBalancerBase::recalculatePerPriorityState` and
 * `recalculatePerPriorityPanic`). Integer arithmetic as Envoy does it, so 80% healthy × 1.4 = 112%
 * caps at 100% and a level keeps all of its traffic until fewer than ~71.4% of its hosts are healthy.
 */
export function computePriorityLoad(
  levels: readonly PriorityLevelHealth[],
  opts: PriorityLoadOptions,
): PriorityLoad {
  const n = Math.max(1, levels.length);
  const healthyLoad = new Array<number>(n).fill(0);
  const degradedLoad = new Array<number>(n).fill(0);
  const health = new Array<number>(n).fill(0);
  const degradedAvailability = new Array<number>(n).fill(0);
  const panic = new Array<boolean>(n).fill(false);
  const factor = opts.overprovisioningFactor;

  for (let p = 0; p < levels.length; p++) {
    const level = levels[p]!;
    if (level.total <= 0) continue;
    health[p] = Math.min(100, Math.floor((factor * level.healthy) / level.total));
    degradedAvailability[p] = Math.min(100, Math.floor((factor * level.degraded) / level.total));
  }

  const availability = normalizedTotalAvailability(health, degradedAvailability);
  if (availability > 0) {
    const healthy = distributeLoad(healthyLoad, health, 100, availability);
    const degraded = distributeLoad(degradedLoad, degradedAvailability, healthy.remaining, availability);
    if (degraded.remaining !== 0) {
      // Rounding leftovers go to the first available priority, healthy before degraded.
      if (healthy.first !== -1) healthyLoad[healthy.first]! += degraded.remaining;
      else degradedLoad[degraded.first]! += degraded.remaining;
    }
  }

  const threshold = Math.min(100, Math.max(0, opts.panicThreshold));
  if (threshold === 0 && availability === 0) {
    // Panic disabled and nothing healthy: keep the sum at 100; no host will be found anyway.
    healthyLoad[0] = 100;
    return { healthyLoad, degradedLoad, panic, health, degradedAvailability };
  }
  let totalPanic = true;
  for (let p = 0; p < n; p++) {
    // A level never panics while the priorities together can carry all the load.
    panic[p] = availability === 100 ? false : inPanic(levels[p], threshold);
    totalPanic &&= panic[p]!;
  }
  if (totalPanic) loadInTotalPanic(levels, healthyLoad, degradedLoad);
  return { healthyLoad, degradedLoad, panic, health, degradedAvailability };
}

function normalizedTotalAvailability(health: readonly number[], degraded: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < health.length; i++) sum += health[i]! + degraded[i]!;
  return Math.min(100, sum);
}

function distributeLoad(
  load: number[],
  availability: readonly number[],
  total: number,
  normalizedTotal: number,
): { first: number; remaining: number } {
  let first = -1;
  let remaining = total;
  for (let i = 0; i < availability.length; i++) {
    if (first < 0 && availability[i]! > 0) first = i;
    load[i] = Math.min(remaining, Math.floor((availability[i]! * 100) / normalizedTotal));
    remaining -= load[i]!;
  }
  return { first, remaining };
}

function inPanic(level: PriorityLevelHealth | undefined, threshold: number): boolean {
  const total = level?.total ?? 0;
  const healthyPercent = total === 0 ? 0 : (100 * (level?.healthy ?? 0)) / total;
  const degradedPercent = total === 0 ? 0 : (100 * (level?.degraded ?? 0)) / total;
  return healthyPercent + degradedPercent < threshold;
}

/** When every level panics, load follows the number of hosts per level, whatever their health. */
function loadInTotalPanic(
  levels: readonly PriorityLevelHealth[],
  healthyLoad: number[],
  degradedLoad: number[],
): void {
  let totalHosts = 0;
  for (const l of levels) totalHosts += l.total;
  healthyLoad.fill(0);
  degradedLoad.fill(0);
  if (totalHosts === 0) {
    healthyLoad[0] = 100;
    return;
  }
  let remaining = 100;
  let firstNonEmpty = -1;
  for (let p = 0; p < levels.length; p++) {
    const hosts = levels[p]!.total;
    if (firstNonEmpty === -1 && hosts !== 0) firstNonEmpty = p;
    healthyLoad[p] = Math.floor((100 * hosts) / totalHosts);
    remaining -= healthyLoad[p]!;
  }
  healthyLoad[firstNonEmpty]! += remaining;
}

/**
 * Envoy's `choosePriority`: a hash (or random number) mod 100 walks the cumulative load. Returns
 * `priority * 2 + (degraded ? 1 : 0)` so that a pick allocates nothing.
 */
export function choosePriority(load: PriorityLoad, hashMod100: number): number {
  const h = hashMod100 + 1;
  let acc = 0;
  for (let p = 0; p < load.healthyLoad.length; p++) {
    acc += load.healthyLoad[p]!;
    if (h <= acc) return p * 2;
  }
  for (let p = 0; p < load.degradedLoad.length; p++) {
    acc += load.degradedLoad[p]!;
    if (h <= acc) return p * 2 + 1;
  }
  return 0;
}
