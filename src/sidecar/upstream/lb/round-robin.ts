// ROUND_ROBIN: Envoy's weighted round robin (EDF when weights differ, a rotating index when equal).

import { EdfScheduler } from './edf.js';
import type { Host } from './host.js';
import { EMPTY_PICKER, type HostPicker, type HostPickerFactory, weightsAreEqual } from './host-picker.js';

export function roundRobinPickers(random: () => number): HostPickerFactory {
  return (hosts: readonly Host[]): HostPicker => {
    if (hosts.length === 0) return EMPTY_PICKER;
    // A random starting point, so that many clients do not all hit the first host together.
    const offset = Math.floor(random() * hosts.length);
    if (weightsAreEqual(hosts)) {
      let next = offset;
      return {
        pick: () => {
          const host = hosts[next % hosts.length];
          next = (next + 1) % hosts.length;
          return host;
        },
      };
    }
    const edf = new EdfScheduler(hosts, (h) => h.weight, offset);
    return { pick: () => edf.pick() };
  };
}
