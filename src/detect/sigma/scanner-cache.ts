/**
 * Built literal scanners kept on disk. Building the automaton of a kind of event takes tens of
 * milliseconds (process_creation: about 4,000 literals, 56,000 states, 30–60 ms) and a hunt builds
 * one per kind it meets, every run: with the same rules, the tables come out the same, so they are
 * saved beside the parsed-rule cache and read back (a few milliseconds for all of them). A file
 * is named by a digest of its literals and belongs to one lotl version and scanner code; one that
 * is damaged, unreadable or from other code is rebuilt. The folder keeps at most MAX_FILES of them.
 */
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { LiteralScanner, type ScannerTables } from './aho-corasick.js';
import { codeDigest } from './code-digest.js';

export interface ScannerCacheOptions {
  dir: string;
  version: string;
}

const MAGIC = 'lotl-ac1';
/** Oldest files beyond this many are removed when one is written (each rule set makes a few dozen). */
const MAX_FILES = 256;

const ARRAYS = ['symbolOf', 'delta', 'outHead', 'outNext', 'outId', 'dict'] as const;
type ArrayName = (typeof ARRAYS)[number];
const KIND: Record<ArrayName, Uint8ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor> = {
  symbolOf: Uint8Array,
  delta: Uint16Array,
  outHead: Int32Array,
  outNext: Int32Array,
  outId: Int32Array,
  dict: Int32Array,
};

interface Header {
  version: string;
  literals: string;
  foldsCase: boolean;
  shift: number;
  firstEmitting: number;
  lengths: Record<ArrayName, number>;
  body: string;
}

/** The scanner of `literals` (ids: their indexes), from the cache when it holds it. */
export function cachedScanner(literals: string[], cache: ScannerCacheOptions | undefined): LiteralScanner {
  if (!cache) return new LiteralScanner(literals);
  const digest = createHash('sha256').update(literals.join('\u0000')).digest('hex');
  const file = path.join(cache.dir, `ac-${digest.slice(0, 24)}.bin`);
  // The tables' meaning is the scanner's code: a file from other code is built again.
  const version = `${cache.version}:${codeDigest(['aho-corasick', 'scanner-cache'])}`;
  const tables = readTables(file, digest, version);
  if (tables) return new LiteralScanner(tables);
  const scanner = new LiteralScanner(literals);
  const built = scanner.tables();
  if (built) writeTables(file, digest, version, built);
  return scanner;
}

function readTables(file: string, digest: string, version: string): ScannerTables | null {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return null; // not built yet
  }
  try {
    if (buf.toString('latin1', 0, 8) !== MAGIC) return null;
    const headerLength = buf.readUInt32LE(8);
    const header = JSON.parse(buf.toString('utf8', 12, 12 + headerLength)) as Header;
    if (header.version !== version || header.literals !== digest) return null;
    const start = align(12 + headerLength);
    const body = buf.subarray(start);
    if (createHash('sha1').update(body).digest('hex') !== header.body) return null;
    // Typed arrays need aligned memory of their own.
    const own = new Uint8Array(body.length);
    own.set(body);
    const arrays = {} as Record<ArrayName, Uint8Array | Uint16Array | Int32Array>;
    let at = 0;
    for (const name of ARRAYS) {
      const Kind = KIND[name];
      const length = header.lengths[name];
      if (!Number.isInteger(length) || length < 0 || at + length * Kind.BYTES_PER_ELEMENT > own.length)
        return null;
      arrays[name] = new Kind(own.buffer, at, length);
      at = align(at + length * Kind.BYTES_PER_ELEMENT);
    }
    return {
      symbolOf: arrays.symbolOf as Uint8Array,
      foldsCase: header.foldsCase,
      shift: header.shift,
      delta: arrays.delta as Uint16Array,
      firstEmitting: header.firstEmitting,
      outHead: arrays.outHead as Int32Array,
      outNext: arrays.outNext as Int32Array,
      outId: arrays.outId as Int32Array,
      dict: arrays.dict as Int32Array,
    };
  } catch {
    return null; // damaged: rebuilt and written again
  }
}

function writeTables(file: string, digest: string, version: string, tables: ScannerTables): void {
  const parts: Buffer[] = [];
  const lengths = {} as Record<ArrayName, number>;
  let size = 0;
  for (const name of ARRAYS) {
    const a = tables[name];
    lengths[name] = a.length;
    const bytes = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const padded = Buffer.alloc(align(bytes.length));
    bytes.copy(padded);
    parts.push(padded);
    size += padded.length;
  }
  const body = Buffer.concat(parts, size);
  const header: Header = {
    version,
    literals: digest,
    foldsCase: tables.foldsCase,
    shift: tables.shift,
    firstEmitting: tables.firstEmitting,
    lengths,
    body: createHash('sha1').update(body).digest('hex'),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(align(12 + json.length));
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  json.copy(head, 12);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    // Written aside and renamed: a concurrent hunt reads the old file or the new one, never half.
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(tmp, Buffer.concat([head, body]));
    renameSync(tmp, file);
    pruneScanners(path.dirname(file), MAX_FILES);
  } catch {
    // A read-only cache folder: the cache is an optimisation, not a requirement.
  }
}

/** Keeps the newest `keep` scanner files of the folder. */
export function pruneScanners(dir: string, keep: number): void {
  const files = readdirSync(dir).filter((f) => /^ac-[0-9a-f]+\.bin$/.test(f));
  if (files.length <= keep) return;
  const aged = files
    .map((f) => {
      const p = path.join(dir, f);
      return { p, t: statSync(p).mtimeMs };
    })
    .sort((a, b) => a.t - b.t);
  for (const { p } of aged.slice(0, files.length - keep)) {
    try {
      unlinkSync(p);
    } catch {
      // Removed by a concurrent hunt.
    }
  }
}

function align(n: number): number {
  return (n + 7) & ~7;
}
