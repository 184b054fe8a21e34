// Strict decoding: every field a decoder neither applies nor knows to be harmless is refused by name.

import { type DescMessage, isFieldSet, type MessageShape } from '@bufbuild/protobuf';
import { at, type DecodeContext } from './problems.js';

/**
 * The fields of one message type the sidecar applies (`handled`) or may safely leave aside (`ignored`:
 * stats names, tuning knobs, runtime keys, which do not change what traffic does). Any other field that is
 * set is reported, so nothing that changes behaviour is silently dropped.
 */
export interface FieldPolicy<D extends DescMessage> {
  readonly schema: D;
  check(ctx: DecodeContext, msg: MessageShape<D>, path: string): void;
}

export function fieldPolicy<D extends DescMessage>(
  schema: D,
  lists: { handled: readonly string[]; ignored?: readonly string[] },
): FieldPolicy<D> {
  const allowed = new Set([...lists.handled, ...(lists.ignored ?? [])]);
  // A misspelt name would quietly refuse a field the decoder does apply; fail at load instead.
  for (const name of allowed) {
    if (!schema.fields.some((f) => f.name === name)) {
      throw new Error(`fieldPolicy(${schema.typeName}): no field named ${name}`);
    }
  }
  const refused = schema.fields.filter((f) => !allowed.has(f.name));
  return {
    schema,
    check(ctx, msg, path) {
      for (const f of refused) {
        if (isFieldSet(msg, f)) {
          ctx.report(at(path, f.name), 'not supported by the Trellis sidecar');
        }
      }
    },
  };
}
