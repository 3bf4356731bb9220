/**
 * Loads log files into the embedded store (the tables KQL queries name), optionally with the
 * built-in pack's alerts in AlertInfo/AlertEvidence. Used by `lotl query`, `lotl hunt`'s KQL
 * hunts and the KQL benchmark.
 */

import { builtinDetectors } from '../hunt/builtin.js';
import { readAll } from '../hunt/read-loop.js';
import type { InputProblem } from '../ingest/raw-event.js';
import { EventStore, type QueryLimits } from '../store/duckdb.js';
import { ruleCache } from './commands/sigma-options.js';
import { progressBar } from './progress.js';

export interface LoadedStore {
  store: EventStore;
  events: number;
  /** Rows per table. */
  tables: Record<string, number>;
}

export async function loadStore(
  paths: string[],
  options: {
    alerts: boolean;
    progress?: boolean;
    problem?: (p: InputProblem) => void;
    /** Only these tables are filled (default: all). */
    tables?: Iterable<string>;
    /** Files queries may read (externaldata's local copies). */
    allowedFiles?: Iterable<string>;
    limits?: Partial<QueryLimits>;
  },
): Promise<LoadedStore> {
  const store = await EventStore.open(undefined, {
    only: options.tables,
    allowedFiles: options.allowedFiles,
    limits: options.limits,
  });
  const detectors = options.alerts ? builtinDetectors(ruleCache()) : [];
  let events = 0;
  try {
    await readAll(
      paths,
      {
        event(view) {
          events++;
          store.add(view);
          for (const d of detectors) for (const a of d.evaluate(view)) store.addAlert(a, view);
        },
        problem(p) {
          options.problem?.(p);
        },
      },
      progressBar(options.progress ?? false),
    );
    return { store, events, tables: await store.finish() };
  } catch (err) {
    store.close();
    throw err;
  }
}
