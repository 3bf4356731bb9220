/**
 * Walking rule folders: every file whose name matches, in name order, with its stat (the rule
 * cache keys on it); paths that cannot be read are listed for the caller to report.
 */
import { readdirSync, type Stats, statSync } from 'node:fs';
import path from 'node:path';

export function filesUnder(
  paths: string[],
  pattern: RegExp,
): { files: string[]; stats: Map<string, Stats>; unreadable: { path: string; message: string }[] } {
  const files: string[] = [];
  const stats = new Map<string, Stats>();
  const unreadable: { path: string; message: string }[] = [];
  const visit = (p: string) => {
    let st: Stats;
    try {
      st = statSync(p);
    } catch (err) {
      unreadable.push({ path: p, message: (err as Error).message });
      return;
    }
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) visit(path.join(p, n));
    else if (pattern.test(p)) {
      files.push(p);
      stats.set(p, st);
    }
  };
  for (const p of paths) visit(p);
  return { files, stats, unreadable };
}
