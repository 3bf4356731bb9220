/**
 * Shared test helpers. The shared corpus lives outside the repo (LOTL_DATA, default ../shared/data);
 * suites that need it say loudly when it is absent instead of passing silently.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InputProblem, RawEvent, ReadItem } from '../src/ingest/raw-event.js';
import { readInputs } from '../src/ingest/read.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** How many Sigma rules, and correlation rules, the built-in pack has (a file each under rules/sigma). */
const PACK_FILES = readdirSync(path.join(ROOT, 'rules', 'sigma')).filter((f) => f.endsWith('.yml'));
export const PACK_CORRELATIONS = PACK_FILES.filter((f) => f.startsWith('correlation_')).length;
export const PACK_RULES = PACK_FILES.length - PACK_CORRELATIONS;
export const DATA = path.resolve(ROOT, process.env.LOTL_DATA ?? '../shared/data');
export const HAS_DATA = existsSync(path.join(DATA, 'INDEX.csv'));
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
export const EXAMPLES = path.join(ROOT, 'examples');
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

if (!HAS_DATA) {
  console.warn(
    `\n*** The shared data corpus was not found at ${DATA} (set LOTL_DATA). ` +
      'Conformance tests against real data DID NOT RUN. ***\n',
  );
}

/** Events and problems of a reader, in order. */
export async function collect(
  batches: AsyncIterable<ReadItem[]>,
): Promise<{ events: RawEvent[]; problems: InputProblem[] }> {
  const events: RawEvent[] = [];
  const problems: InputProblem[] = [];
  for await (const batch of batches) {
    for (const item of batch) {
      if (item.kind === 'event') events.push(item.event);
      else if (item.kind === 'problem') problems.push(item.problem);
    }
  }
  return { events, problems };
}

export function readAllItems(paths: string[]): Promise<{ events: RawEvent[]; problems: InputProblem[] }> {
  return collect(readInputs(paths));
}

/** INDEX.csv rows: path → records (null where the two reference parsers did not agree). */
export function indexRecords(): Map<string, { records: number | null; format: string }> {
  const text = readFileSync(path.join(DATA, 'INDEX.csv'), 'utf8');
  const out = new Map<string, { records: number | null; format: string }>();
  for (const line of text.split('\n').slice(1)) {
    if (!line) continue;
    const cells = splitCsvLine(line);
    out.set(cells[0], { format: cells[2], records: cells[5] === '' ? null : Number(cells[5]) });
  }
  return out;
}

function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cur);
      cur = '';
    } else cur += c;
  }
  cells.push(cur);
  return cells;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would (no TTY: no progress bar, no colour). */
/** The rule cache of the CLI under test (one per run of the suite). */
export const TEST_CACHE = path.join(tmpdir(), `lotl-test-cache-${process.ppid}`);

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: ROOT,
        // Parsed rules are cached per run of the suite, not in the user's home.
        env: { ...process.env, LOTL_CACHE_DIR: TEST_CACHE, ...env },
        maxBuffer: 512 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code =
          err && typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Every file under `dir` whose name ends with `suffix`, in name order. */
export function filesUnder(dir: string, suffix: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = path.join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith(suffix)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** The Sigma alerts of JSON-lines output, as sorted `rule file record-or-line` keys. */
export function sigmaAlertKeys(jsonl: string): string[] {
  return jsonl
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((a) => a.rule.kind === 'sigma')
    .map((a) => `${a.rule.id} ${a.source.file} ${a.source.record ?? a.source.line}`)
    .sort();
}

/**
 * The KQL hunts' alerts of JSON-lines output, as sorted `rule event` keys (a hunt's rows come in no
 * particular order, so their record numbers are left out).
 */
export function kqlAlertKeys(jsonl: string): string[] {
  return jsonl
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((a) => a.rule.kind === 'kql')
    .map((a) => `${a.rule.id} ${a.rule.level} ${JSON.stringify(a.event)}`)
    .sort();
}

/** The streamed hunt's output for examples/ (the pack, without the correlate stage). */
export async function streamedExamples(): Promise<string> {
  return (await runCli(['hunt', '--no-progress', '--no-correlate', '--format', 'jsonl', 'examples/'])).stdout;
}

/** What a hunt over a store must give for examples/: the streamed hunt's pack Sigma alerts. */
export async function streamedExampleKeys(): Promise<string[]> {
  return sigmaAlertKeys(await streamedExamples());
}

/** Every alert of JSON-lines output, whatever its kind, as sorted `rule time place` keys. */
export function allAlertKeys(jsonl: string): string[] {
  return jsonl
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .map((a) => `${a.rule.id} ${a.time} ${a.source?.file} ${a.source?.record ?? a.source?.line}`)
    .sort();
}

/**
 * The answers of `lotl report` as compared across inputs: a host or account is spelt as the first
 * event that named it spelt it (a store reads in time order, a stream file by file), so case is
 * left out, and so is the order in which a log's files were met; a KQL hunt's rows come in no
 * particular order, so the row number of its alerts (`file.kql#N`) is left out too.
 */
export function answersKey(json: string): string {
  const doc = JSON.parse(json) as { coverage: { files: string[] }[] };
  for (const c of doc.coverage) c.files.sort();
  return JSON.stringify(doc, null, 1)
    .toLowerCase()
    .replace(/\.kql#\d+/g, '.kql#');
}
