/**
 * What the evidence covers: per log (one host's channel, across every file that holds its
 * records), how many events, the time span, the record numbers seen, and the gaps between them.
 * Windows numbers each log's records one by one, so a gap means records that are not there —
 * rolled over, left out of the collection, or removed (the advisory's intruder clears logs).
 * Answers "which hosts and logs do I have, from when to when, and is anything missing?" before any
 * verdict is trusted.
 */
import { DEFENDER_PROVIDER } from '../ingest/defender-tables.js';
import type { EventView } from '../normalize/normalize.js';

export interface LogStream {
  host: string | null;
  channel: string | null;
  /** The files holding its records (at most MAX_FILES_LISTED). */
  files: string[];
  events: number;
  first: string | null;
  last: string | null;
  firstRecord: number | null;
  lastRecord: number | null;
  /** Record numbers missing between the first and the last. */
  missing: number;
  /** The first gaps, as [after, before] record numbers (at most MAX_GAPS_LISTED). */
  gaps: [number, number][];
  /** Records numbered lower than the one before them in the same file. */
  outOfOrder: number;
  /** Records seen more than once (the same log in two exports). */
  repeated: number;
}

/** Logs kept (a hostile input could name millions of hosts); more are counted. */
export const MAX_STREAMS = 10_000;
/** Runs of consecutive record numbers kept per log; past it, gaps are no longer counted. */
const MAX_RUNS = 10_000;
const MAX_GAPS_LISTED = 20;
const MAX_FILES_LISTED = 20;

interface Stream {
  host: string | null;
  channel: string | null;
  files: string[];
  events: number;
  firstMs: number | null;
  lastMs: number | null;
  /** Sorted, disjoint, non-adjacent runs of record numbers: [first, last]. */
  runs: [number, number][];
  overflow: boolean;
  previous: Map<string, number>;
  outOfOrder: number;
  repeated: number;
}

export class Coverage {
  private readonly streams = new Map<string, Stream>();
  private last: { computer: string | null; channel: string | null; stream: Stream } | null = null;
  dropped = 0;

  event(view: EventView): void {
    const raw = view.raw;
    // Events come in runs of one log: the key is built only when the log changes.
    let s =
      this.last && this.last.computer === raw.computer && this.last.channel === raw.channel
        ? this.last.stream
        : undefined;
    const key = s ? '' : `${(raw.computer ?? '').toLowerCase()}\u0000${raw.channel ?? ''}`;
    if (!s) s = this.streams.get(key);
    if (!s) {
      if (this.streams.size >= MAX_STREAMS) {
        this.dropped++;
        return;
      }
      s = {
        host: raw.computer,
        channel: raw.channel,
        files: [],
        events: 0,
        firstMs: null,
        lastMs: null,
        runs: [],
        overflow: false,
        previous: new Map(),
        outOfOrder: 0,
        repeated: 0,
      };
      this.streams.set(key, s);
    }
    if (this.last?.stream !== s) this.last = { computer: raw.computer, channel: raw.channel, stream: s };
    s.events++;
    const file = raw.origin.file;
    if (s.files.length < MAX_FILES_LISTED && !s.files.includes(file)) s.files.push(file);
    const t = raw.time;
    if (t !== null) {
      if (s.firstMs === null || t < s.firstMs) s.firstMs = t;
      if (s.lastMs === null || t > s.lastMs) s.lastMs = t;
    }
    // Defender's ReportId is no log record number: only Windows logs are counted for gaps.
    const r = raw.provider === DEFENDER_PROVIDER ? null : raw.recordId;
    if (typeof r !== 'number' || !Number.isSafeInteger(r)) return;
    const before = s.previous.get(file);
    if (before !== undefined && r < before) s.outOfOrder++;
    if (s.previous.size < MAX_FILES_LISTED || s.previous.has(file)) s.previous.set(file, r);
    if (!addRecord(s, r)) s.repeated++;
  }

  /** The logs, by host and channel. */
  streamsSeen(): LogStream[] {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return [...this.streams.values()]
      .map((s): LogStream => {
        const gaps: [number, number][] = [];
        let missing = 0;
        for (let i = 1; i < s.runs.length; i++) {
          const after = s.runs[i - 1][1];
          const next = s.runs[i][0];
          missing += next - after - 1;
          if (gaps.length < MAX_GAPS_LISTED) gaps.push([after, next]);
        }
        return {
          host: s.host,
          channel: s.channel,
          files: s.files,
          events: s.events,
          first: iso(s.firstMs),
          last: iso(s.lastMs),
          firstRecord: s.runs[0]?.[0] ?? null,
          lastRecord: s.runs.at(-1)?.[1] ?? null,
          missing,
          gaps,
          outOfOrder: s.outOfOrder,
          repeated: s.repeated,
        };
      })
      .sort(
        (a, b) =>
          (a.host ?? '').toLowerCase().localeCompare((b.host ?? '').toLowerCase()) ||
          (a.channel ?? '').localeCompare(b.channel ?? ''),
      );
  }
}

/** Adds a record number to a log's runs; false when it was there already. */
function addRecord(s: Stream, r: number): boolean {
  const runs = s.runs;
  // The common case: the next record of the last run.
  const last = runs.at(-1);
  if (last && r === last[1] + 1) {
    last[1] = r;
    return true;
  }
  // The first run that ends at or after r - 1.
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (runs[mid][1] < r - 1) lo = mid + 1;
    else hi = mid;
  }
  const run = runs[lo];
  if (run && run[0] <= r && r <= run[1]) return false;
  if (run && r === run[1] + 1) {
    run[1] = r;
    const next = runs[lo + 1];
    if (next && next[0] === r + 1) {
      run[1] = next[1];
      runs.splice(lo + 1, 1);
    }
    return true;
  }
  if (run && r === run[0] - 1) {
    run[0] = r;
    return true;
  }
  if (runs.length >= MAX_RUNS) {
    // Too scattered to count gaps faithfully: widen the nearest run instead (gaps undercounted).
    s.overflow = true;
    const near = runs[Math.min(lo, runs.length - 1)];
    near[0] = Math.min(near[0], r);
    near[1] = Math.max(near[1], r);
    return true;
  }
  runs.splice(lo, 0, [r, r]);
  return true;
}
