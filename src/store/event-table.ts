/**
 * Events kept in a DuckDB database file for hunting with SQL (`lotl ingest --db`, `lotl hunt --db`):
 * one row per event with the Sigma logsource keys it serves, its source fields and its taxonomy
 * fields as maps of lower-cased names to text, and the event itself (to make alerts). Files are
 * known by their SHA-256: ingesting one again adds nothing. A file goes in inside one
 * transaction, so an interrupted ingest leaves none of it.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { EVERY_VALUE } from '../detect/ir/predicate.js';
import { keysServed } from '../detect/sigma/engine.js';
import type { ProgressFactory } from '../hunt/read-loop.js';
import { readAll } from '../hunt/read-loop.js';
import { type RuleStore, ruleColumns, scopedField } from '../hunt/table-hunt.js';
import type { InputProblem, RawEvent } from '../ingest/raw-event.js';
import { listInputs } from '../ingest/read.js';
import type { EventView } from '../normalize/normalize.js';
import { DUCKDB } from '../sql/dialects.js';
import { ADDRESS_KEY_PREFIX, FOLDED_PREFIX, HAS_LIST_PREFIX, LIST_PREFIX } from '../sql/from-predicate.js';
import type { SqlValue } from '../sql/tree.js';
import { makeTempDir, removeTempDir } from '../temp-dirs.js';
import { wellFormedJson } from './duckdb.js';
import { wholeRead } from './whole-read.js';

export const EVENT_TABLE_SCHEMA = [
  'CREATE TABLE IF NOT EXISTS lotl_files (sha256 VARCHAR PRIMARY KEY, path VARCHAR, bytes BIGINT, events BIGINT, ingested TIMESTAMP)',
  `CREATE TABLE IF NOT EXISTS lotl_events (file VARCHAR, sha256 VARCHAR, time VARCHAR, host VARCHAR, channel VARCHAR,
    event_id INTEGER, keys VARCHAR[], source_fields MAP(VARCHAR, VARCHAR), source_lists MAP(VARCHAR, VARCHAR[]),
    taxonomy_fields MAP(VARCHAR, VARCHAR), event JSON)`,
];

/** The columns files fill, named (a server's database has one more: the event's number). */
export const EVENT_COLUMNS =
  'file, sha256, time, host, channel, event_id, keys, source_fields, source_lists, taxonomy_fields, event';

/** Events staged and inserted at a time. */
const CHUNK_EVENTS = 100_000;

const COLUMNS =
  "{'file': 'VARCHAR', 'sha256': 'VARCHAR', 'time': 'VARCHAR', 'host': 'VARCHAR', 'channel': 'VARCHAR', 'event_id': 'INTEGER', 'keys': 'VARCHAR[]', 'source_fields': 'MAP(VARCHAR, VARCHAR)', 'source_lists': 'MAP(VARCHAR, VARCHAR[])', 'taxonomy_fields': 'MAP(VARCHAR, VARCHAR)', 'event': 'JSON'}";

/** A field's value as the table keeps it: text (lists of texts go to source_lists; maps are left out). */
function textOf(v: unknown): string | undefined {
  if (v === undefined || v === null || typeof v === 'object') return undefined;
  return String(v);
}

export interface IngestResult {
  files: number;
  /** Files already in the database (the same SHA-256), not read again. */
  known: number;
  events: number;
  problems: InputProblem[];
}

export class EventTable implements RuleStore {
  readonly dialect = DUCKDB;
  /**
   * Folded texts are asked for by name (FOLDED_PREFIX) like any field: each field a batch reads —
   * and its lower case — is worked out once a row in an inner SELECT (fieldSql names it), not at
   * every test of every rule that reads it (a batch of process_creation rules reads CommandLine in
   * hundreds of tests: twice as fast over SigmaHQ).
   */
  readonly foldedFields = true;
  /** Each address a range test reads is parsed once a row (lotl_ip_key), not once a range. */
  readonly addressKeys = true;
  /** The fields the batches read: (scope, name) → the inner SELECT's column for it. */
  private readonly derived = new Map<string, { column: string; sql: string }>();
  /** A scan of the table is the cost (planning a long query is not): few, big batches. */
  readonly batch = { rules: 1024, chars: 4_000_000 };

  private constructor(
    readonly file: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(file: string): Promise<EventTable> {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const { registerKqlFunctions } = await import('./udfs.js');
    const instance = await DuckDBInstance.create(file, {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      // DuckDB's default is most of the machine's memory (a 1M-event ingest took 4.4 GB), bounded
      // it writes to its file and temp files instead (1.1 GB for 250,000 events; LOTL_DUCKDB_MEMORY).
      memory_limit: process.env.LOTL_DUCKDB_MEMORY ?? '512MB',
    });
    const connection = await instance.connect();
    registerKqlFunctions(connection);
    for (const sql of EVENT_TABLE_SCHEMA) await connection.run(sql);
    return new EventTable(file, instance, connection);
  }

  /** Reads the inputs into the table, file by file; a file already there is skipped. */
  async ingest(
    paths: string[],
    on: { problem?(p: InputProblem): void; progress?: ProgressFactory | null } = {},
  ): Promise<IngestResult> {
    const listed = await listInputs(paths);
    const result: IngestResult = { files: 0, known: 0, events: 0, problems: [...listed.problems] };
    for (const p of listed.problems) on.problem?.(p);
    const dir = makeTempDir('lotl-ingest-');
    try {
      for (const input of listed.files) {
        const sha256 = await fileHash(input.path);
        const seen = await this.connection.runAndReadAll('SELECT 1 FROM lotl_files WHERE sha256 = ?', [
          sha256,
        ]);
        if (seen.currentRowCount > 0) {
          result.known++;
          continue;
        }
        // The file's rows and its entry in one transaction: all of it, or none. Rows are staged
        // in a JSON-lines file a chunk at a time and inserted from it (memory stays bounded
        // however big the file).
        const staged = path.join(dir, 'events.jsonl');
        let fd = openSync(staged, 'w');
        let events = 0;
        let chunk = 0;
        let buffer = '';
        const insertChunk = async () => {
          writeSync(fd, buffer);
          buffer = '';
          closeSync(fd);
          if (chunk > 0)
            await this.connection.run(
              `INSERT INTO lotl_events (${EVENT_COLUMNS}) SELECT * FROM read_json('${staged.replace(/'/g, "''")}', format = 'newline_delimited', columns = ${COLUMNS})`,
            );
          chunk = 0;
          fd = openSync(staged, 'w');
        };
        await this.connection.run('BEGIN TRANSACTION');
        try {
          await readAll(
            [input.path],
            {
              event: (view) => {
                events++;
                chunk++;
                buffer += `${rowOf(view, input.path, sha256)}\n`;
                if (buffer.length >= 1 << 20) {
                  writeSync(fd, buffer);
                  buffer = '';
                }
              },
              problem: (p) => {
                result.problems.push(p);
                on.problem?.(p);
              },
              flush: async () => {
                if (chunk >= CHUNK_EVENTS) await insertChunk();
              },
            },
            on.progress ?? null,
            {},
            { files: [input], problems: [] },
          );
          await insertChunk();
          await this.connection.run('INSERT INTO lotl_files VALUES (?, ?, ?, ?, now())', [
            sha256,
            input.path,
            input.size,
            events,
          ]);
          await this.connection.run('COMMIT');
        } catch (err) {
          await this.connection.run('ROLLBACK');
          throw err;
        } finally {
          try {
            closeSync(fd);
          } catch {
            // (Already closed: an insert failed between chunks.)
          }
        }
        result.files++;
        result.events += events;
      }
    } finally {
      removeTempDir(dir);
    }
    return result;
  }

  /** A field as a batch reads it: a column of the inner SELECT (see foldedFields). */
  fieldSql(field: string, scope: 'category' | 'service'): string {
    const key = `${scope}\n${field}`;
    let d = this.derived.get(key);
    if (!d) {
      d = { column: `lotl_field_${this.derived.size}`, sql: this.valueSql(field, scope) };
      this.derived.set(key, d);
    }
    return d.column;
  }

  /** A field's value from the row's maps: folded (FOLDED_PREFIX) in lower case, lists element by element. */
  private valueSql(field: string, scope: 'category' | 'service'): string {
    if (field.startsWith(LIST_PREFIX + FOLDED_PREFIX))
      return `list_transform(${this.valueSql(LIST_PREFIX + field.slice(LIST_PREFIX.length + FOLDED_PREFIX.length), scope)}, x -> lower(x))`;
    if (field.startsWith(FOLDED_PREFIX))
      return `lower(${this.valueSql(field.slice(FOLDED_PREFIX.length), scope)})`;
    if (field.startsWith(ADDRESS_KEY_PREFIX))
      return `lotl_ip_key(${this.valueSql(field.slice(ADDRESS_KEY_PREFIX.length), scope)})`;
    const lit = (name: string) => DUCKDB.literal(name.toLowerCase());
    // Every value of the event (keywords): no text of its own, a list of all.
    if (field === LIST_PREFIX + EVERY_VALUE)
      return 'list_concat(map_values(source_fields), flatten(map_values(source_lists)))';
    if (field === HAS_LIST_PREFIX + EVERY_VALUE) return 'TRUE';
    if (field.endsWith(EVERY_VALUE)) return 'CAST(NULL AS VARCHAR)';
    if (field.startsWith(HAS_LIST_PREFIX))
      return `(map_extract_value(source_lists, ${lit(field.slice(HAS_LIST_PREFIX.length))}) IS NOT NULL)`;
    // A field's list of values (the source's lists: the taxonomy's fields are texts).
    if (field.startsWith(LIST_PREFIX))
      return `map_extract_value(source_lists, ${lit(field.slice(LIST_PREFIX.length))})`;
    const taxonomy = `map_extract_value(taxonomy_fields, ${lit(field)})`;
    const source = `map_extract_value(source_fields, ${lit(field)})`;
    return scopedField(field, scope, taxonomy, source);
  }

  async selectMatching(
    key: string,
    conditions: readonly string[],
    params: readonly SqlValue[],
  ): Promise<{ event: RawEvent; matched: number[] }[]> {
    // Each rule's test a named column; the outer WHERE keeps the rows some rule matched. (The
    // conditions' parameters come first in the text, the key's after.)
    const { tests, any, matched } = ruleColumns(conditions, (c) => `coalesce(${c}, FALSE)`);
    // The fields these conditions read, each once a row (fieldSql).
    const used = new Set(conditions.flatMap((c) => c.match(/\blotl_field_\d+\b/g) ?? []));
    const fields = [...this.derived.values()]
      .filter((d) => used.has(d.column))
      .map((d) => `, ${d.sql} AS ${d.column}`)
      .join('');
    const rows = await this.query(
      `SELECT * FROM (SELECT event, ${tests} FROM (SELECT event${fields} FROM lotl_events WHERE list_contains(keys, ?))) WHERE ${any}`,
      [...params, key],
    );
    return rows.map((row) => ({
      event: (typeof row.event === 'string' ? JSON.parse(row.event) : row.event) as RawEvent,
      matched: matched(row),
    }));
  }

  async listFields(): Promise<Set<string>> {
    const rows = await this.query(
      'SELECT DISTINCT unnest(map_keys(source_lists)) AS name FROM lotl_events',
      [],
    );
    return new Set(rows.map((r) => String(r.name)));
  }

  /** Rows of lotl's own query (a rule as SQL, values as parameters). */
  async query(sql: string, params: readonly SqlValue[]): Promise<Record<string, unknown>[]> {
    const reader = await this.connection.runAndReadAll(sql, [...params]);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  }

  async counts(): Promise<{ files: number; events: number }> {
    const [row] = await this.query(
      'SELECT (SELECT count(*) FROM lotl_files) AS files, (SELECT count(*) FROM lotl_events) AS events',
      [],
    );
    return { files: Number(row.files), events: Number(row.events) };
  }

  async keyCounts(): Promise<Map<string, number>> {
    const rows = await this.query(
      'SELECT k, count(*) AS n FROM (SELECT unnest(keys) AS k FROM lotl_events) GROUP BY k',
      [],
    );
    return new Map(rows.map((r) => [String(r.k), Number(r.n)]));
  }

  /**
   * In the order they went in: file by file, each in its reading order — the order a streamed hunt
   * of the same inputs reads them, so the answers are the stream's. (Sorting by time here held
   * every event in DuckDB's memory: 250,000 events passed 512 MB; a scan holds a chunk.) A result
   * cut short is an error, not the end: DuckDB's stream can end quietly when a chunk fails.
   */
  async *eachEvent(): AsyncGenerator<RawEvent[]> {
    const [{ n }] = await this.query('SELECT count(*) AS n FROM lotl_events', []);
    const result = await this.connection.stream('SELECT CAST(event AS VARCHAR) AS event FROM lotl_events');
    for await (const rows of wholeRead(Number(n), result.yieldRowsJson()))
      yield rows.map((r) => JSON.parse(String(r[0])) as RawEvent);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** What a stored event row holds of an event, whatever the store: keys served and field values. */
export interface EventFields {
  keys: string[];
  source: Map<string, string>;
  lists: Map<string, string[]>;
  taxonomy: Map<string, string>;
}

/** The logsource keys an event serves, and its fields by lower-cased name (texts; lists of texts). */
export function eventFields(view: EventView): EventFields {
  const keys = new Set<string>();
  for (const ls of view.logsources()) for (const k of keysServed(ls)) keys.add(k);
  const source = new Map<string, string>();
  const lists = new Map<string, string[]>();
  // A name goes to the first key it names, as the stream reads fields (normalize.ts lowerKeysOf):
  // lower-cased, and spaces stripped too ("Threat Name" is ThreatName to Sigma).
  const claimed = new Set<string>();
  for (const [k, v] of Object.entries(view.raw.data)) {
    const lower = k.toLowerCase();
    for (const name of lower.includes(' ') ? [lower, lower.replace(/ /g, '')] : [lower]) {
      if (claimed.has(name)) continue;
      claimed.add(name);
      const t = textOf(v);
      if (t !== undefined) source.set(name, t);
      // A list of texts (EventData's unnamed Data values): its elements, searched one by one.
      else if (Array.isArray(v))
        lists.set(
          name,
          v.map(textOf).filter((x): x is string => x !== undefined),
        );
    }
  }
  const taxonomy = new Map<string, string>();
  for (const [k, v] of Object.entries(view.sigmaFields())) {
    const t = textOf(v);
    if (t !== undefined) taxonomy.set(k.toLowerCase(), t);
  }
  return { keys: [...keys], source, lists, taxonomy };
}

/** An event's time as ISO text, or null. */
export const isoTime = (raw: RawEvent) =>
  typeof raw.time === 'number' && Number.isFinite(raw.time) ? new Date(raw.time).toISOString() : null;

/** One event as a row of lotl_events (JSON text for read_json). */
function rowOf(view: EventView, file: string, sha256: string): string {
  return wellFormedJson(JSON.stringify(eventRow(view, file, sha256)));
}

/** One event as the columns of lotl_events hold it (`sha256`: the key of what it came in with). */
export function eventRow(view: EventView, file: string, sha256: string): Record<string, unknown> {
  const f = eventFields(view);
  const raw: RawEvent = view.raw;
  return {
    file,
    sha256,
    time: isoTime(raw),
    host: raw.computer ?? null,
    channel: raw.channel ?? null,
    event_id: raw.eventId ?? null,
    keys: f.keys,
    source_fields: Object.fromEntries(f.source),
    source_lists: Object.fromEntries(f.lists),
    taxonomy_fields: Object.fromEntries(f.taxonomy),
    event: raw,
  };
}

export function fileHash(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
