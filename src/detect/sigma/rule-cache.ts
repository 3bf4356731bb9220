/**
 * A cache of parsed rule files. Parsing YAML is most of the time it takes to load SigmaHQ (about
 * half a second for 3,754 files, paid again by every hunting thread); the parsed documents of an
 * unchanged file are read back from one JSON file instead. A file counts as unchanged when its
 * size, modification time and inode are; the cache also belongs to one lotl version. Anything
 * wrong with the cache (missing, corrupt, unwritable) only means parsing again.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, type Stats, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** What the fast path parsed from one single-document file. */
export interface CachedFile {
  size: number;
  mtimeMs: number;
  ino: number;
  /** The line of the document's first node (where a rule "is"). */
  line: number;
  doc: unknown;
  /** What compiling the file's rule told (load.ts), when it compiled without a problem. */
  derived?: unknown;
}

interface CacheFile {
  format: 1;
  version: string;
  files: Record<string, CachedFile>;
}

/** `$LOTL_CACHE_DIR`, else `$XDG_CACHE_HOME/lotl`, else `~/.cache/lotl`; null when `LOTL_CACHE_DIR` is empty (off). */
export function defaultCacheDir(): string | null {
  const own = process.env.LOTL_CACHE_DIR;
  if (own !== undefined) return own === '' ? null : own;
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && xdg !== '' ? xdg : path.join(homedir(), '.cache'), 'lotl');
}

export class RuleCache {
  private readonly file: string;
  private readonly previous: Record<string, CachedFile>;
  private readonly current: Record<string, CachedFile> = {};
  private changed = false;

  /** One cache file per set of rule roots, so hunts with different rule folders do not evict each other. */
  constructor(
    dir: string,
    roots: string[],
    private readonly version: string,
  ) {
    const key = createHash('sha256')
      .update(
        [...roots]
          .map((r) => path.resolve(r))
          .sort()
          .join('\n'),
      )
      .digest('hex')
      .slice(0, 16);
    this.file = path.join(dir, `sigma-${key}.json`);
    this.previous = this.read();
  }

  private read(): Record<string, CachedFile> {
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as CacheFile;
      if (data.format === 1 && data.version === this.version && data.files && typeof data.files === 'object')
        return data.files;
    } catch {
      // No cache yet, or a damaged one: parse everything.
    }
    this.changed = true;
    return {};
  }

  /** The parsed document of `file` if it has not changed since it was cached. */
  get(file: string, st: Stats): CachedFile | undefined {
    const hit = this.previous[file];
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ino === st.ino) {
      this.current[file] = hit;
      return hit;
    }
    // A changed file is saved by set(); one that cannot be cached drops out (see save()).
    return undefined;
  }

  /** Keeps what compiling the rule of a cached file told; nothing if the file is not cached. */
  derive(file: string, derived: unknown): void {
    const entry = this.current[file];
    if (!entry) return;
    this.current[file] = { ...entry, derived };
    this.changed = true;
  }

  set(file: string, st: Stats, line: number, doc: unknown): void {
    this.current[file] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, line, doc };
    this.changed = true;
  }

  /** Writes the cache when anything changed: entries of this load only (deleted files drop out). */
  save(): void {
    // Unchanged when every previous entry was used again and nothing was added.
    if (!this.changed && Object.keys(this.current).length === Object.keys(this.previous).length) return;
    const data: CacheFile = { format: 1, version: this.version, files: this.current };
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      // Written aside and renamed: a concurrent hunt reads the old cache or the new one, never half.
      const tmp = `${this.file}.${process.pid}.${Date.now()}.tmp`;
      writeFileSync(tmp, JSON.stringify(data));
      renameSync(tmp, this.file);
    } catch {
      // A read-only home directory: the cache is an optimisation, not a requirement.
    }
  }
}
