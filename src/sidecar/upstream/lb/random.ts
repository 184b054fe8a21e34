// RANDOM: a uniformly random host of the selected set; like Envoy, it ignores host weights.

import type { Host } from './host.js';
import { EMPTY_PICKER, type HostPicker, type HostPickerFactory } from './host-picker.js';

export function randomPickers(random: () => number): HostPickerFactory {
  return (hosts: readonly Host[]): HostPicker =>
    hosts.length === 0 ? EMPTY_PICKER : { pick: () => hosts[Math.floor(random() * hosts.length)] };
}
