// Header additions as Envoy's `HeaderValueOption` describes them, decoded once.

import type { HeaderValueOption } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { HeaderValueOption_HeaderAppendAction } from '../../xds/gen/envoy/config/core/v3/base_pb.js';

export type AppendAction = 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD';

export interface HeaderToAdd {
  /** Lower-case. */
  name: string;
  value: string;
  action: AppendAction;
}

/** The deprecated `append: false` means overwrite, `append: true` means append. */
export function headersFromProto(list: readonly HeaderValueOption[]): HeaderToAdd[] {
  return list
    .filter((o) => o.header)
    .map((o) => ({
      name: o.header!.key.toLowerCase(),
      value: o.header!.value,
      action:
        o.append !== undefined
          ? o.append
            ? 'APPEND_IF_EXISTS_OR_ADD'
            : 'OVERWRITE_IF_EXISTS_OR_ADD'
          : appendAction(o.appendAction),
    }));
}

function appendAction(a: HeaderValueOption_HeaderAppendAction): AppendAction {
  switch (a) {
    case HeaderValueOption_HeaderAppendAction.ADD_IF_ABSENT:
      return 'ADD_IF_ABSENT';
    case HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD:
      return 'OVERWRITE_IF_EXISTS_OR_ADD';
    default:
      return 'APPEND_IF_EXISTS_OR_ADD';
  }
}
