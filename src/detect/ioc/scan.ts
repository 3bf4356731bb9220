/**
 * `lotl ioc scan`: hash files on disk and match them (and their names and paths) against an
 * indicator set. The walk never follows symbolic links to directories (no loops), never opens
 * FIFOs, sockets or devices (they block or never end), and reports every file it skips and why.
 * Files are hashed on worker threads, one per core, streaming in 1 MiB reads.
 */
import { existsSync, type Stats } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { isInside } from '../../ingest/paths.js';
import type { Indicator, IndicatorSet } from './indicator.js';
import { type HashResult, hashFile } from './scan-worker.js';

export interface ScanOptions {
  minSize?: number;
  maxSize?: number;
  /** Lower-case extensions with the dot (`.exe`); empty = every file. */
  extensions?: string[];
  onFile?: (file: string, bytes: number) => void;
  onTotal?: (bytes: number) => void;
  threads?: number;
}

export interface ScanMatch {
  path: string;
  size: number;
  mtime: string;
  hashes: Record<string, string>;
  indicator: Indicator;
  /** What matched: the file's hash, its name or its full path. */
  on: 'md5' | 'sha1' | 'sha256' | 'filename' | 'filepath';
}

export interface ScanSkip {
  path: string;
  reason: string;
}

export interface ScanResult {
  matches: ScanMatch[];
  skipped: ScanSkip[];
  files: number;
  bytes: number;
}

interface Candidate {
  path: string;
  size: number;
  mtime: Date;
}

async function walk(roots: string[], opts: ScanOptions, skipped: ScanSkip[]): Promise<Candidate[]> {
  const out: Candidate[] = [];
  const exts = opts.extensions?.length ? new Set(opts.extensions.map((e) => e.toLowerCase())) : null;
  // `top`: the real path of the folder named, which links found inside must not leave (a link
  // to /etc/passwd is not evidence found on the image).
  const visit = async (p: string, root: boolean, top: string | null): Promise<void> => {
    let ls: Stats;
    try {
      ls = await lstat(p);
    } catch (err) {
      skipped.push({
        path: p,
        reason: `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      });
      return;
    }
    let st = ls;
    if (ls.isSymbolicLink()) {
      try {
        st = await stat(p);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        skipped.push({
          path: p,
          reason: code === 'ELOOP' ? 'symbolic link loop' : `broken symbolic link (${code})`,
        });
        return;
      }
      if (st.isDirectory() && !root) {
        skipped.push({ path: p, reason: 'symbolic link to a directory, not followed' });
        return;
      }
      if (!root && top !== null) {
        const target = await realpath(p).catch(() => null);
        if (target === null || !isInside(target, top)) {
          skipped.push({
            path: p,
            reason: `symbolic link out of the scanned folder (to ${target ?? '?'}), not followed`,
          });
          return;
        }
      }
    }
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = await readdir(p);
      } catch (err) {
        skipped.push({ path: p, reason: `directory cannot be read: ${(err as NodeJS.ErrnoException).code}` });
        return;
      }
      names.sort();
      const inside = top ?? (await realpath(p).catch(() => p));
      for (const n of names) await visit(path.join(p, n), false, inside);
      return;
    }
    if (!st.isFile()) {
      const what = st.isFIFO()
        ? 'FIFO'
        : st.isSocket()
          ? 'socket'
          : st.isCharacterDevice() || st.isBlockDevice()
            ? 'device'
            : 'special file';
      skipped.push({ path: p, reason: `${what}, not read` });
      return;
    }
    if (exts && !exts.has(path.extname(p).toLowerCase())) return;
    if (opts.minSize !== undefined && st.size < opts.minSize) return;
    if (opts.maxSize !== undefined && st.size > opts.maxSize) {
      skipped.push({ path: p, reason: `larger than --max-size (${st.size} bytes)` });
      return;
    }
    out.push({ path: p, size: st.size, mtime: st.mtime });
  };
  for (const r of roots) await visit(r, true, null);
  return out;
}

function workerScript(): URL | null {
  const here = new URL('./scan-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL('../../../dist/detect/ioc/scan-worker.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : null;
}

/** Hashes candidates with up to `threads` workers (on the main thread when there is no worker script). */
async function hashAll(
  files: Candidate[],
  algorithms: string[],
  threads: number,
  onDone: (c: Candidate, r: HashResult) => void,
): Promise<void> {
  const script = workerScript();
  if (!script || threads <= 1 || files.length < 2) {
    for (const [id, f] of files.entries()) {
      try {
        onDone(f, { id, ...(await hashFile(f.path, algorithms)) });
      } catch (err) {
        onDone(f, { id, error: (err as Error).message });
      }
    }
    return;
  }
  const workers = Array.from({ length: Math.min(threads, files.length) }, () => new Worker(script));
  let next = 0;
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          const send = () => {
            if (next >= files.length) {
              void w.terminate();
              resolve();
              return;
            }
            const id = next++;
            w.postMessage({ id, path: files[id].path, algorithms });
          };
          w.on('message', (r: HashResult) => {
            onDone(files[r.id], r);
            send();
          });
          w.on('error', () => resolve());
          send();
        }),
    ),
  );
}

export async function scanPaths(
  roots: string[],
  set: IndicatorSet,
  opts: ScanOptions = {},
): Promise<ScanResult> {
  const skipped: ScanSkip[] = [];
  const candidates = await walk(roots, opts, skipped);
  const algorithms = (['md5', 'sha1', 'sha256'] as const).filter((a) => set.has(a));
  const total = candidates.reduce((s, c) => s + c.size, 0);
  opts.onTotal?.(total);
  const matches: ScanMatch[] = [];
  let bytes = 0;
  const record = (c: Candidate, hashes: Record<string, string>) => {
    const base = { path: c.path, size: c.size, mtime: c.mtime.toISOString(), hashes };
    for (const a of algorithms)
      for (const indicator of set.hash(hashes[a])) matches.push({ ...base, indicator, on: a });
    for (const indicator of set.filepath(c.path)) matches.push({ ...base, indicator, on: 'filepath' });
    for (const indicator of set.filename(path.basename(c.path)))
      matches.push({ ...base, indicator, on: 'filename' });
  };
  if (algorithms.length === 0) {
    // Only names and paths to match: no need to read the files.
    for (const c of candidates) record(c, {});
  } else {
    await hashAll(
      candidates,
      algorithms,
      opts.threads ?? Math.max(1, Math.min(availableParallelism(), 8)),
      (c, r) => {
        if (r.error !== undefined) {
          skipped.push({ path: c.path, reason: `cannot be read: ${r.error}` });
          return;
        }
        bytes += r.size ?? 0;
        opts.onFile?.(c.path, r.size ?? 0);
        record(c, r.hashes ?? {});
      },
    );
  }
  matches.sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : a.indicator.value < b.indicator.value ? -1 : 1,
  );
  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { matches, skipped, files: candidates.length, bytes };
}
