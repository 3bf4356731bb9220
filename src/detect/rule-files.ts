/**
 * Walking rule folders: every file whose name matches, in name order, with its stat (the rule
 * cache keys on it); paths that cannot be read are listed for the caller to report.
 *
 * Rule folders come from anywhere (a download, a colleague's share): the walk visits each real
 * directory once (a symbolic link back up the tree is a loop), takes regular files only (a FIFO
 * named rule.yml would block the read forever, /dev/zero would never end) and leaves out files
 * larger than MAX_RULE_FILE.
 */
import { readdirSync, realpathSync, type Stats, statSync } from 'node:fs';
import path from 'node:path';

/** The largest rule or query file read; SigmaHQ's largest is about 30 KB. */
export const MAX_RULE_FILE = 4 * 1024 * 1024;

export function filesUnder(
  paths: string[],
  pattern: RegExp,
): { files: string[]; stats: Map<string, Stats>; unreadable: { path: string; message: string }[] } {
  const files: string[] = [];
  const stats = new Map<string, Stats>();
  const unreadable: { path: string; message: string }[] = [];
  const seenDirs = new Set<string>();
  const visit = (p: string, explicit: boolean) => {
    let st: Stats;
    try {
      st = statSync(p);
    } catch (err) {
      unreadable.push({ path: p, message: (err as Error).message });
      return;
    }
    if (st.isDirectory()) {
      let real: string;
      let names: string[];
      try {
        real = realpathSync(p);
        names = readdirSync(p).sort();
      } catch (err) {
        unreadable.push({ path: p, message: (err as Error).message });
        return;
      }
      if (seenDirs.has(real)) return;
      seenDirs.add(real);
      for (const n of names) visit(path.join(p, n), false);
      return;
    }
    if (!explicit && !pattern.test(p)) return;
    if (!st.isFile()) {
      unreadable.push({ path: p, message: 'not a regular file (FIFO, socket or device): not read' });
      return;
    }
    if (st.size > MAX_RULE_FILE) {
      unreadable.push({
        path: p,
        message: `${st.size.toLocaleString('en-US')} bytes: larger than the ${MAX_RULE_FILE / 1024 / 1024} MB a rule file may have`,
      });
      return;
    }
    if (!pattern.test(p)) return;
    files.push(p);
    stats.set(p, st);
  };
  for (const p of paths) visit(p, true);
  return { files, stats, unreadable };
}
