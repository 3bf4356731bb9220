import path from 'node:path';

/** Whether `target` is `root` or below it (both real paths): a link found in a tree stays in it. */
export function isInside(target: string, root: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
