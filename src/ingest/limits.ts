/**
 * Limits on what one event may hold. Logs are hostile input: a value nested thousands of levels
 * deep overflows every recursive walk after the reader (JSON.stringify, flattening, the store).
 * Readers cut such values and report the cut (CUT_VALUE), keeping the event.
 */

/** The deepest nesting of arrays and objects kept inside one event; deeper values are cut. */
export const MAX_NESTING = 64;

export const CUT_MARK = `[cut: nested deeper than ${MAX_NESTING} levels]`;

/**
 * Cuts, in place, every array or object nested deeper than MAX_NESTING (replaced by CUT_MARK).
 * Returns whether anything was cut. Recursion is bounded by the limit itself.
 */
export function cutDeepValues(value: unknown): boolean {
  return cut(value, 1);
}

function cut(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  const container = value as Record<string, unknown>; // an array's indexes are its keys too
  let changed = false;
  for (const key of Array.isArray(value) ? value.keys() : Object.keys(container)) {
    const v = container[key];
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_NESTING) {
      container[key] = CUT_MARK;
      changed = true;
    } else if (cut(v, depth + 1)) changed = true;
  }
  return changed;
}
