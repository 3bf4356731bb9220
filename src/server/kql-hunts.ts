/**
 * The KQL hunting queries (the pack's rules/hunts, `--kql` ones) as live detections: once commits
 * settle, each hunt runs over the store's KQL tables, as `lotl hunt` runs them at its end, and
 * every result row not seen before becomes an alert (kind "kql"), stored and pushed like the
 * others. A row is known by its hunt and its values, so a rerun adds only new rows, across restarts
 * too (the keys are rebuilt from the stored alerts). Queries are compiled again at each run: `ago()`
 * means "before now", not "before the server started".
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Alert } from '../detect/alert.js';
import { bindKql } from '../detect/kql/frontend.js';
import {
  huntInfo,
  type KqlHuntInfo,
  type KqlHuntProblem,
  loadHunts,
  rowAlerts,
} from '../detect/kql/hunts.js';
import type { LiveDetection } from './live.js';
import type { ServerStore } from './store.js';

/** Rows one hunt may give at a run (a hunt is a filter: more is a query to narrow). */
export const MAX_HUNT_ROWS = 10_000;
/** How long commits must pause before the hunts run (they read everything: not at every batch). */
const SETTLE_MS = 1_000;

export class LiveHunts {
  private readonly seen = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  /** Hunts that gave more rows than MAX_HUNT_ROWS at their last run. */
  readonly capped = new Set<string>();

  private constructor(
    /** The hunt files this store can run (those that bind and compile). */
    private readonly files: string[],
    private readonly store: ServerStore,
    private readonly live: LiveDetection,
    private readonly onProblem: (message: string) => void,
  ) {}

  /**
   * The hunts of `paths` this store runs, and the problems of those it cannot (said once, here:
   * an error in the query, or what this store's compiler does not cover).
   */
  static async open(
    paths: string[],
    store: ServerStore,
    live: LiveDetection,
    onProblem: (message: string) => void,
  ): Promise<{ hunts: LiveHunts; infos: KqlHuntInfo[]; problems: KqlHuntProblem[] }> {
    const { hunts: infos, problems } = loadHunts(paths, (bound, info) => {
      store.checkKql(bound);
      return info;
    });
    const hunts = new LiveHunts(
      infos.map((i) => i.file),
      store,
      live,
      onProblem,
    );
    for (const a of await store.alertsOfKind('kql')) hunts.seen.add(rowKey(a));
    return { hunts, infos, problems };
  }

  /** Called after each commit: the hunts run once commits pause. */
  schedule(): void {
    if (this.files.length === 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.running) this.again = true;
      else this.running = this.runAll();
    }, SETTLE_MS);
  }

  /** True while a run is due or under way. */
  get busy(): boolean {
    return this.timer !== null || this.running !== null;
  }

  private async runAll(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.runOnce();
      } while (this.again);
    } finally {
      this.running = null;
    }
  }

  private async runOnce(): Promise<void> {
    for (const file of this.files) {
      // A failing hunt is told and the others still run.
      try {
        await this.runHunt(file);
      } catch (err) {
        this.onProblem(`${file}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }

  private async runHunt(file: string): Promise<void> {
    const text = readFileSync(file, 'utf8');
    const page = await this.store.kql(bindKql(text), { offset: 0, limit: MAX_HUNT_ROWS }, new Date());
    if (page.more) this.capped.add(file);
    else this.capped.delete(file);
    const fresh: Alert[] = [];
    const keys: string[] = [];
    for (const a of rowAlerts(huntInfo(file, text), page.rows)) {
      const key = rowKey(a);
      if (this.seen.has(key)) continue;
      fresh.push(a);
      keys.push(key);
    }
    if (fresh.length === 0) return;
    const alerts = fresh.map((alert) => ({ alert, event: null }));
    const result = await this.store.commit({
      id: `kql:${createHash('sha256').update(keys.join('\n')).digest('hex')}`,
      source: file,
      views: [],
      alerts,
    });
    for (const k of keys) this.seen.add(k);
    if (result.stored) {
      this.live.stored([], alerts);
      this.live.committed(fresh, false);
    }
  }

  /** Resolves when no run is due or under way (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.busy) await new Promise((r) => setTimeout(r, 50));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** A hunt row's identity: its hunt and its values (not its number in the result). */
function rowKey(a: Alert): string {
  return createHash('sha256')
    .update(`${a.rule.id}\n${JSON.stringify(a.event)}`)
    .digest('hex');
}
