// Applies a security engine's header changes to the request the pipeline forwards and to the replies it makes.

import type { HeaderEdits, HeaderValue } from '../../../security/header-edits.js';
import { HeaderList } from '../../headers.js';
import { isFieldValue, isToken } from '../../tokens.js';

/**
 * Values come from tokens, claims and authorization services: one that is not a valid header (a claim holding
 * a newline, a service sending a bad name) is dropped rather than failing the request or reaching the wire.
 */
function valid(h: HeaderValue): boolean {
  return isToken(h.name) && isFieldValue(h.value);
}

/** Removes, then sets (replacing every value), then appends: the engines' order. */
export function applyHeaderEdits(headers: HeaderList, edits: HeaderEdits): void {
  for (const name of edits.remove) headers.remove(name);
  for (const h of edits.set) if (valid(h)) headers.set(h.name, h.value);
  for (const h of edits.append) if (valid(h)) headers.add(h.name, h.value);
}

/** Headers for a local reply (`www-authenticate`, an authorization service's denial headers). */
export function headerListOf(values: readonly HeaderValue[]): HeaderList {
  const list = new HeaderList();
  for (const h of values) if (valid(h)) list.add(h.name, h.value);
  return list;
}

/** Adds headers to a response on its way to the client (ext_authz `response_headers_to_add`). */
export function addHeaders(headers: HeaderList, values: readonly HeaderValue[]): void {
  for (const h of values) if (valid(h)) headers.add(h.name, h.value);
}
