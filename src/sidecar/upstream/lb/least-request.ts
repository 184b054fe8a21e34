// LEAST_REQUEST: power-of-N-choices on active requests, or EDF on weight / (active + 1)^bias.

import { EdfScheduler } from './edf.js';
import type { Host } from './host.js';
import { EMPTY_PICKER, type HostPicker, type HostPickerFactory, weightsAreEqual } from './host-picker.js';

export interface LeastRequestOptions {
  choiceCount?: number;
  activeRequestBias?: number;
}

export function leastRequestPickers(random: () => number, opts: LeastRequestOptions = {}): HostPickerFactory {
  const choices = Math.max(2, Math.floor(opts.choiceCount ?? 2));
  const bias = opts.activeRequestBias ?? 1;
  const dynamicWeight = (h: Host) => {
    const active = h.activeRequests + 1;
    if (bias === 0) return h.weight;
    return bias === 1 ? h.weight / active : h.weight / active ** bias;
  };
  return (hosts: readonly Host[]): HostPicker => {
    if (hosts.length === 0) return EMPTY_PICKER;
    if (weightsAreEqual(hosts)) {
      return {
        pick: () => {
          let best = hosts[Math.floor(random() * hosts.length)]!;
          for (let i = 1; i < choices; i++) {
            const candidate = hosts[Math.floor(random() * hosts.length)]!;
            if (candidate.activeRequests < best.activeRequests) best = candidate;
          }
          return best;
        },
      };
    }
    const edf = new EdfScheduler(hosts, dynamicWeight, Math.floor(random() * hosts.length));
    return { pick: () => edf.pick() };
  };
}
