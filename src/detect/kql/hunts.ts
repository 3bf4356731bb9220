/**
 * KQL hunting queries as detections (the pack's rules/hunts/*.kql): each file is a query with a
 * header of `// key: value` comments (title, source, techniques, tactics, level). `lotl hunt` runs them over
 * the store it fills while hunting; every result row becomes an alert of kind "kql" whose event
 * is the row, as Defender's hunting page shows it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Alert, Level } from '../alert.js';
import { LEVELS, TACTICS } from '../alert.js';
import { filesUnder } from '../rule-files.js';
import { type BoundQuery, bindKql, lineCol } from './frontend.js';
import { presentRow } from './rows.js';
import { type CompiledQuery, compileKql, KqlUnsupportedError } from './to-sql.js';
import { kqlToTree, type TreeQuery } from './to-tree.js';

/** What a hunt's header (`// key: value` lines) says of it. */
export interface KqlHuntInfo {
  file: string;
  title: string;
  level: Level;
  techniques: string[];
  /** ATT&CK tactics (`// tactics:`), for the incident stages and the reset list. */
  tactics: string[];
  author: string;
}

export interface KqlHunt extends KqlHuntInfo {
  compiled: CompiledQuery;
}

/** A hunt compiled to the SQL tree (to-tree.ts), for a store's own engine (ClickHouse). */
export interface KqlTreeHunt extends KqlHuntInfo {
  tree: TreeQuery;
}

export interface KqlHuntProblem {
  file: string;
  message: string;
  /** A query that is valid KQL but uses what this compiler does not cover (not an error in the file). */
  unsupported?: boolean;
}

/** The hunts of the given .kql files and folders; what does not bind or compile is a problem. */
export function loadKqlHunts(paths: string[]): { hunts: KqlHunt[]; problems: KqlHuntProblem[] } {
  return loadHunts(paths, (bound, info) => ({ ...info, compiled: compileKql(bound) }));
}

/**
 * The hunts compiled to the SQL tree: what the portable subset does not cover is a problem with
 * its line and column (the hunt runs on the streamed hunt's store only).
 */
export function loadKqlTreeHunts(
  paths: string[],
  options: { now?: Date } = {},
): { hunts: KqlTreeHunt[]; problems: KqlHuntProblem[] } {
  return loadHunts(paths, (bound, info) => ({ ...info, tree: kqlToTree(bound, options) }));
}

/**
 * The hunts of the given .kql files and folders, each made by `compile` from its bound query and
 * header (a store's check, a compiler); what does not bind, or what `compile` finds unsupported,
 * is a problem with its place.
 */
export function loadHunts<H>(
  paths: string[],
  compile: (bound: BoundQuery, info: KqlHuntInfo) => H,
): { hunts: H[]; problems: KqlHuntProblem[] } {
  const hunts: H[] = [];
  const problems: KqlHuntProblem[] = [];
  const { files, unreadable } = filesUnder(paths, /\.kql$/i);
  for (const u of unreadable) problems.push({ file: u.path, message: u.message });
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const bound = bindKql(text);
    const error = bound.problems.find((p) => p.severity === 'error');
    if (error) {
      problems.push({ file, message: `${error.line}:${error.col}: ${error.message}` });
      continue;
    }
    try {
      hunts.push(compile(bound, huntInfo(file, text)));
    } catch (err) {
      if (!(err instanceof KqlUnsupportedError)) throw err;
      const at = lineCol(text, err.start);
      problems.push({ file, message: `${at.line}:${at.col}: ${err.message}`, unsupported: true });
    }
  }
  return { hunts, problems };
}

/** What a hunt's header of `// key: value` lines says of it. */
export function huntInfo(file: string, query: string): KqlHuntInfo {
  const meta = new Map<string, string>();
  for (const line of query.split('\n')) {
    const m = /^\/\/\s*([a-z]+):\s*(.*)$/i.exec(line.trim());
    if (!m) break;
    meta.set(m[1].toLowerCase(), m[2].trim());
  }
  const level = (meta.get('level') ?? 'medium') as Level;
  const source = meta.get('source');
  return {
    file,
    title: meta.get('title') ?? path.basename(file, '.kql'),
    level: LEVELS.includes(level) ? level : 'medium',
    techniques: (meta.get('techniques') ?? '').split(/[,\s]+/).filter(Boolean),
    tactics: (meta.get('tactics') ?? '')
      .split(/[,\s]+/)
      .map((t) => t.toLowerCase())
      .filter((t) => TACTICS.includes(t)),
    author: source ? `verbatim from ${source.split(' ')[0]}` : 'lotl',
  };
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** The rule id of a hunt's alerts. */
export const huntRuleId = (hunt: Pick<KqlHunt, 'file'>) => `kql:${path.basename(hunt.file, '.kql')}`;

/** One alert per result row (rows of the embedded store, as DuckDB gives them). */
export function huntAlerts(hunt: KqlHunt, rows: Record<string, unknown>[]): Alert[] {
  return rowAlerts(
    hunt,
    rows.map((raw) => presentRow(raw, hunt.compiled.columns)),
  );
}

/** One alert per result row, the rows shown as Kusto shows them (presentRow, presentTreeRow). */
export function rowAlerts(hunt: KqlHuntInfo, rows: Record<string, unknown>[]): Alert[] {
  const id = huntRuleId(hunt);
  return rows.map((row, i) => {
    const time = text(row.Timestamp) ?? text(row.TimeGenerated) ?? text(row.timestamp);
    const iso = time
      ? new Date(`${time.replace(' ', 'T')}${/Z|[+-]\d\d:?\d\d$/.test(time) ? '' : 'Z'}`)
      : null;
    const eventId = Number(row.EventID);
    return {
      time: iso && Number.isFinite(iso.getTime()) ? iso.toISOString() : null,
      rule: {
        id,
        title: hunt.title,
        level: hunt.level,
        kind: 'kql',
        author: hunt.author,
        techniques: hunt.techniques,
        tactics: hunt.tactics,
      },
      host: text(row.DeviceName) ?? text(row.Computer),
      user:
        text(row.Account) ??
        (text(row.AccountName)
          ? `${text(row.AccountDomain) ? `${row.AccountDomain}\\` : ''}${row.AccountName}`
          : null),
      source: {
        file: hunt.file,
        format: 'kql',
        record: i + 1,
        channel: text(row.Channel),
        eventId: Number.isFinite(eventId) && row.EventID !== null ? eventId : null,
      },
      event: row,
    };
  });
}

function compileWorkerScript(): URL | null {
  const here = new URL('./compile-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL('../../../dist/detect/kql/compile-worker.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : null;
}

/**
 * loadKqlHunts on a worker thread. Kusto's language service takes about 130 MB once loaded and
 * cannot be unloaded; a hunt needs it only to compile, so it lives in a thread that then ends,
 * leaving the memory to the hunt. The same hunts and problems as loadKqlHunts.
 */
export async function loadKqlHuntsApart(
  paths: string[],
): Promise<{ hunts: KqlHunt[]; problems: KqlHuntProblem[] }> {
  const script = compileWorkerScript();
  if (!script) return loadKqlHunts(paths);
  const worker = new Worker(script, { workerData: { paths } });
  try {
    const done = await new Promise<{
      hunts: KqlHunt[];
      redo: string[];
      order: string[];
      problems: KqlHuntProblem[];
    }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the KQL compiler thread stopped (exit code ${code})`)));
    });
    const hunts = [...done.hunts, ...(done.redo.length > 0 ? loadKqlHunts(done.redo).hunts : [])];
    // In the order loadKqlHunts gives.
    const order = new Map(done.order.map((file, i) => [file, i]));
    hunts.sort((a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0));
    return { hunts, problems: done.problems };
  } finally {
    await worker.terminate();
  }
}
