// The per-policy step of a pick: choose one host from a list the priority/locality logic selected.

import type { Host } from './host.js';

export interface HostPicker {
  pick(): Host | undefined;
}

/** Builds a picker over one fixed host list (one per priority × health × locality source). */
export type HostPickerFactory = (hosts: readonly Host[]) => HostPicker;

/** True when every host has the same weight: Envoy then skips the EDF scheduler. */
export function weightsAreEqual(hosts: readonly Host[]): boolean {
  for (let i = 1; i < hosts.length; i++) if (hosts[i]!.weight !== hosts[0]!.weight) return false;
  return true;
}

export const EMPTY_PICKER: HostPicker = { pick: () => undefined };
