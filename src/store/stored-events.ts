/**
 * Where `lotl ingest` puts events and `lotl hunt` reads them with SQL: a DuckDB database file
 * (`--db FILE`) or a ClickHouse server (`--clickhouse URL`, optionally over a cluster's shards).
 */
import type { Alert } from '../detect/alert.js';
import type { ProgressFactory } from '../hunt/read-loop.js';
import type { RuleStore } from '../hunt/table-hunt.js';
import type { InputProblem, RawEvent } from '../ingest/raw-event.js';
import type { EventView } from '../normalize/normalize.js';
import { ClickHouseTable } from './clickhouse-table.js';
import { EventTable, type IngestResult } from './event-table.js';

export interface StoredEvents extends RuleStore {
  ingest(
    paths: string[],
    on?: {
      problem?(p: InputProblem): void;
      progress?: ProgressFactory | null;
      /** lotl's alerts on an event, for the stores that keep KQL's alert tables (ClickHouse). */
      alerts?: (view: EventView) => Alert[];
    },
  ): Promise<IngestResult>;
  counts(): Promise<{ files: number; events: number }>;
  /**
   * Every stored event, in batches: what the correlate stage and the indicators read over a store
   * (`lotl hunt --db`, `--clickhouse`). One query, streamed: lotl holds a batch at a time. The
   * order is the store's to say (DuckDB: as they went in; ClickHouse: by time).
   */
  eachEvent(): AsyncGenerator<RawEvent[]>;
  /** Events per Sigma logsource key they serve (which rules had events to look at). */
  keyCounts(): Promise<Map<string, number>>;
  close(): void;
}

export interface StoreChoice {
  db?: string;
  clickhouse?: string;
  cluster?: string;
}

/** The store named, for messages: a file's path, a server's address without its password. */
export function storeName(choice: StoreChoice): string {
  if (choice.db !== undefined) return choice.db;
  try {
    const u = new URL(choice.clickhouse ?? '');
    u.password = '';
    return `${u.origin}${u.pathname}${u.search}${choice.cluster ? ` (cluster ${choice.cluster})` : ''}`;
  } catch {
    return String(choice.clickhouse);
  }
}

export function openStoredEvents(choice: StoreChoice): Promise<StoredEvents> {
  if (choice.db !== undefined) return EventTable.open(choice.db);
  if (choice.clickhouse !== undefined)
    return ClickHouseTable.open(choice.clickhouse, { cluster: choice.cluster });
  throw new Error('no store: --db FILE or --clickhouse URL');
}
