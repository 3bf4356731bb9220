/**
 * Events kept in ClickHouse for hunting with SQL (`lotl ingest --clickhouse URL`, `lotl hunt
 * --clickhouse URL`): the same rows as the DuckDB table (event-table.ts), written for ClickHouse
 * 18.16 and later over plain HTTP (JSONEachRow in, JSONEachRow out). 18.16 has no Map type and no
 * Nullable arrays: fields are parallel arrays of names and values, lists an array of arrays.
 * No transactions either: a file's events become visible only once its row is in lotl_files (every
 * query reads `sha256 IN lotl_files`), and a file ingested again first drops what an interrupted
 * run left of it.
 */
import type { ProgressFactory } from '../hunt/read-loop.js';
import { readAll } from '../hunt/read-loop.js';
import { type RuleStore, taxonomyFirst } from '../hunt/table-hunt.js';
import type { InputProblem, RawEvent } from '../ingest/raw-event.js';
import { listInputs } from '../ingest/read.js';
import type { EventView } from '../normalize/normalize.js';
import { CLICKHOUSE } from '../sql/dialects.js';
import { HAS_LIST_PREFIX, LIST_PREFIX } from '../sql/from-predicate.js';
import { wellFormedJson } from './duckdb.js';
import { eventFields, fileHash, type IngestResult, isoTime } from './event-table.js';

const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS lotl_files (sha256 String, path String, bytes UInt64, events UInt64) ENGINE = MergeTree ORDER BY sha256',
  `CREATE TABLE IF NOT EXISTS lotl_events (file String, sha256 String, time Nullable(String), host Nullable(String),
    channel Nullable(String), event_id Nullable(Int32), keys Array(String),
    source_names Array(String), source_values Array(String), list_names Array(String), list_values Array(Array(String)),
    taxonomy_names Array(String), taxonomy_values Array(String), event String) ENGINE = MergeTree ORDER BY sha256`,
];

/** Rows sent in one INSERT. */
const BATCH_ROWS = 5_000;

export class ClickHouseTable implements RuleStore {
  readonly dialect = CLICKHOUSE;

  private constructor(
    private readonly url: URL,
    private readonly auth: string | null,
  ) {}

  /** A server at `url` (http://host:port/, user:password@ if needed, ?database=… if not default). */
  static async open(url: string): Promise<ClickHouseTable> {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`not an HTTP URL: ${url}`);
    const auth =
      u.username !== ''
        ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
        : null;
    u.username = '';
    u.password = '';
    const table = new ClickHouseTable(u, auth);
    for (const sql of SCHEMA) await table.run(sql);
    return table;
  }

  /** Runs one statement; its body (`data`: rows to insert after the query). */
  async run(sql: string, data?: string): Promise<string> {
    const u = new URL(this.url);
    if (data !== undefined) u.searchParams.set('query', sql);
    // A rule with many case-insensitive items is a long query (each folded field spells out the
    // letters lowerUTF8 misses): past the default 256 KiB.
    else {
      if (sql.length > 200_000)
        u.searchParams.set('max_query_size', String(Math.min(64 << 20, sql.length * 2)));
      // A rule of thousands of items (the vulnerable-driver hash lists) is an expression past the
      // default 50,000 elements.
      u.searchParams.set('max_ast_elements', '5000000');
      u.searchParams.set('max_expanded_ast_elements', '5000000');
    }
    const res = await fetch(u, {
      method: 'POST',
      headers: this.auth ? { authorization: this.auth } : {},
      body: data ?? sql,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`ClickHouse: ${text.trim().split('\n')[0]}`);
    return text;
  }

  private async rows(sql: string): Promise<Record<string, unknown>[]> {
    const text = await this.run(`${sql} FORMAT JSONEachRow`);
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async ingest(
    paths: string[],
    on: { problem?(p: InputProblem): void; progress?: ProgressFactory | null } = {},
  ): Promise<IngestResult> {
    const listed = await listInputs(paths);
    const result: IngestResult = { files: 0, known: 0, events: 0, problems: [...listed.problems] };
    for (const p of listed.problems) on.problem?.(p);
    for (const input of listed.files) {
      const sha256 = await fileHash(input.path);
      const lit = CLICKHOUSE.literal(sha256);
      if ((await this.rows(`SELECT 1 FROM lotl_files WHERE sha256 = ${lit}`)).length > 0) {
        result.known++;
        continue;
      }
      // What an interrupted ingest of this file left (invisible: no lotl_files row) goes first.
      await this.run(`ALTER TABLE lotl_events DELETE WHERE sha256 = ${lit}`);
      let batch: string[] = [];
      let events = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        const data = batch.join('\n');
        batch = [];
        await this.run('INSERT INTO lotl_events FORMAT JSONEachRow', data);
      };
      const pending: Promise<void>[] = [];
      await readAll(
        [input.path],
        {
          event: (view) => {
            events++;
            batch.push(rowOf(view, input.path, sha256));
            if (batch.length >= BATCH_ROWS) pending.push(flush());
          },
          problem: (p) => {
            result.problems.push(p);
            on.problem?.(p);
          },
        },
        on.progress ?? null,
        {},
        { files: [input], problems: [] },
      );
      await Promise.all(pending);
      await flush();
      await this.run(
        'INSERT INTO lotl_files FORMAT JSONEachRow',
        JSON.stringify({ sha256, path: input.path, bytes: input.size, events }),
      );
      result.files++;
      result.events += events;
    }
    return result;
  }

  fieldSql(field: string, scope: 'category' | 'service'): string {
    const at = (names: string, values: string, name: string) =>
      `if(has(${names}, ${name}), ${values}[indexOf(${names}, ${name})], NULL)`;
    const lit = (name: string) => CLICKHOUSE.literal(name.toLowerCase());
    if (field.startsWith(HAS_LIST_PREFIX))
      return `has(list_names, ${lit(field.slice(HAS_LIST_PREFIX.length))})`;
    if (field.startsWith(LIST_PREFIX)) {
      // An absent list is an empty one here (arrays are never NULL in 18.16): no element matches.
      const name = lit(field.slice(LIST_PREFIX.length));
      return `list_values[indexOf(list_names, ${name})]`;
    }
    const taxonomy = at('taxonomy_names', 'taxonomy_values', lit(field));
    const source = at('source_names', 'source_values', lit(field));
    return taxonomyFirst(field, scope)
      ? `coalesce(${taxonomy}, ${source})`
      : `coalesce(${source}, ${taxonomy})`;
  }

  async select(
    key: string,
    condition: string,
    params: (string | number | boolean | null)[],
  ): Promise<RawEvent[]> {
    if (params.length > 0) throw new Error('ClickHouse queries carry their values as literals');
    const rows = await this.rows(
      `SELECT event FROM lotl_events WHERE sha256 IN (SELECT sha256 FROM lotl_files) AND has(keys, ${CLICKHOUSE.literal(key)}) AND (${condition})`,
    );
    return rows.map((r) => JSON.parse(String(r.event)) as RawEvent);
  }

  async listFields(): Promise<Set<string>> {
    const rows = await this.rows('SELECT DISTINCT arrayJoin(list_names) AS name FROM lotl_events');
    return new Set(rows.map((r) => String(r.name)));
  }

  async counts(): Promise<{ files: number; events: number }> {
    const [row] = await this.rows(
      'SELECT (SELECT count() FROM lotl_files) AS files, (SELECT count() FROM lotl_events WHERE sha256 IN (SELECT sha256 FROM lotl_files)) AS events',
    );
    return { files: Number(row.files), events: Number(row.events) };
  }

  /** Paths of the files held (one a content). */
  async files(): Promise<string[]> {
    return (await this.rows('SELECT path FROM lotl_files ORDER BY path')).map((r) => String(r.path));
  }

  close(): void {}
}

/** One event as a JSONEachRow row of lotl_events. */
function rowOf(view: EventView, file: string, sha256: string): string {
  const f = eventFields(view);
  const raw = view.raw;
  return wellFormedJson(
    JSON.stringify({
      file,
      sha256,
      time: isoTime(raw),
      host: raw.computer ?? null,
      channel: raw.channel ?? null,
      event_id: raw.eventId ?? null,
      keys: f.keys,
      source_names: [...f.source.keys()],
      source_values: [...f.source.values()],
      list_names: [...f.lists.keys()],
      list_values: [...f.lists.values()],
      taxonomy_names: [...f.taxonomy.keys()],
      taxonomy_values: [...f.taxonomy.values()],
      event: JSON.stringify(raw),
    }),
  );
}
