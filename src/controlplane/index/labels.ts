// Label selectors: a selector matches when every one of its labels is present with the same value.

export function selectorMatches(
  selector: Record<string, string> | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

export function isEmptySelector(selector: Record<string, string> | undefined): boolean {
  return !selector || Object.keys(selector).length === 0;
}
