/**
 * Alerts in their stable order (time, rule, file, record) with bounded memory: a hunt over many
 * gigabytes can raise hundreds of thousands of alerts, each carrying its event. Up to `runSize`
 * are kept in memory; beyond that each full buffer is sorted and written to a temporary file as
 * JSON lines, and the output is a merge of those runs. Counts by level are kept as alerts arrive.
 *
 * An alert that arrives as JSON text (from another thread) is kept as that text, and a run line is
 * its sort key and its text: the key is all the merge reads back, and JSON-lines output writes the
 * text as it is. A hunt's alerts are then encoded once, not four times (118 MB of them for the
 * 1 GiB EVTX benchmark).
 */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import {
  type Alert,
  type AlertHead,
  type AlertSortKey,
  alertSortKey,
  compareSortKeys,
  LEVELS,
  type Level,
} from '../detect/alert.js';
import { makeTempDir, removeTempDir } from '../temp-dirs.js';

/** Alerts held in memory before a run is written (EVTX events average about 9 KB in memory: ~18 MB). */
const RUN_SIZE = 2_000;

/**
 * The most run files open at once. Runs are merged FAN_IN at a time as they pile up (runs of one
 * level into one of the next), and the final merge reads at most FAN_IN: a hunt with millions of
 * alerts does not run out of file descriptors (EMFILE).
 */
export const FAN_IN = 32;

interface Run {
  file: string;
  /** 0 for a spilled buffer; n + 1 for a merge of runs of level n. */
  level: number;
}

/** One alert in the spool: its sort key, and the alert, its JSON text, or both. */
interface Entry {
  key: AlertSortKey;
  alert?: Alert;
  text?: string;
}

const byKey = (a: Entry, b: Entry) => compareSortKeys(a.key, b.key);

export class AlertSpool {
  private buffer: Entry[] = [];
  private readonly runs: Run[] = [];
  private serial = 0;
  private dir: string | null = null;
  private total = 0;
  readonly byLevel: Record<Level, number> = { informational: 0, low: 0, medium: 0, high: 0, critical: 0 };
  readonly byHost = new Map<string, number>();
  readonly byRule = new Map<string, number>();
  /** Distinct events that raised an alert (file and record, line or offset). */
  private readonly events = new Set<string>();

  constructor(private readonly runSize = RUN_SIZE) {}

  get count(): number {
    return this.total;
  }

  /** Adds an alert; or, with its JSON text (`JSON.stringify(alert)`), kept instead of it, its head. */
  add(alert: Alert): void;
  add(head: AlertHead, text: string): void;
  add(alert: Alert | AlertHead, text?: string): void {
    const key = alertSortKey(alert);
    this.buffer.push(text === undefined ? { key, alert: alert as Alert } : { key, text });
    this.total++;
    this.byLevel[alert.rule.level]++;
    // Logs name one host FS02.corp.local and fs02.corp.local: counted as one, lower-cased.
    const host = alert.host?.toLowerCase() ?? '-';
    this.byHost.set(host, (this.byHost.get(host) ?? 0) + 1);
    this.byRule.set(alert.rule.title, (this.byRule.get(alert.rule.title) ?? 0) + 1);
    const src = alert.source;
    this.events.add(
      `${src.file}\u0000${src.record ?? src.line ?? src.offset ?? alert.time}\u0000${src.offset ?? ''}`,
    );
    if (this.buffer.length >= this.runSize) this.spill();
  }

  /** How many distinct events raised at least one alert. */
  get alertingEvents(): number {
    return this.events.size;
  }

  /** Whether an alert of `level` or higher was added. */
  hasAtLeast(level: Level): boolean {
    const min = LEVELS.indexOf(level);
    return LEVELS.some((l, i) => i >= min && this.byLevel[l] > 0);
  }

  private spill(): void {
    this.buffer.sort(byKey);
    this.dir ??= makeTempDir('lotl-alerts-');
    const file = path.join(this.dir, `run-${this.serial++}.jsonl`);
    const fd = openSync(file, 'w');
    try {
      // Written in pieces below V8's large-object size, like the output (alert-output.ts). A line
      // is the key, a tab (JSON text has none unescaped), the alert.
      let text = '';
      for (const e of this.buffer) {
        text += `${JSON.stringify(e.key)}\t${e.text ?? JSON.stringify(e.alert)}\n`;
        if (text.length >= 64 * 1024) {
          writeSync(fd, text);
          text = '';
        }
      }
      if (text !== '') writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    this.runs.push({ file, level: 0 });
    this.buffer = [];
    // FAN_IN runs of one level become one run of the next.
    // (Runs of one level are contiguous: every run after the newest of level n is of a lower one.)
    for (let level = 0; ; level++) {
      const same = this.runs.filter((r) => r.level === level);
      if (same.length < FAN_IN) break;
      this.merge(same, level + 1);
    }
  }

  /** Merges runs into one run file (of `level`), removing them. */
  private merge(runs: Run[], level: number): void {
    const file = path.join(this.dir!, `merged-${this.serial++}.jsonl`);
    const fd = openSync(file, 'w');
    const sources = runs.map((r) => linesOf(r.file));
    try {
      const heads = sources.map(nextLine);
      let text = '';
      for (;;) {
        let best = -1;
        for (let i = 0; i < heads.length; i++) {
          const h = heads[i];
          if (h !== null && (best < 0 || compareSortKeys(h.key, heads[best]!.key) < 0)) best = i;
        }
        if (best < 0) break;
        text += `${heads[best]!.line}\n`;
        if (text.length >= 64 * 1024) {
          writeSync(fd, text);
          text = '';
        }
        heads[best] = nextLine(sources[best]);
      }
      if (text !== '') writeSync(fd, text);
    } finally {
      for (const s of sources) s.return(undefined);
      closeSync(fd);
    }
    // The merged run takes the place of the oldest it holds: runs stay in the order their alerts
    // arrived, so ties keep arrival order (the merges pick the earliest run among equal keys).
    const at = this.runs.indexOf(runs[0]);
    for (const r of runs) unlinkSync(r.file);
    this.runs.splice(at, runs.length, { file, level });
  }

  /** How many run files there are now (bounded: see FAN_IN). */
  get runFiles(): number {
    return this.runs.length;
  }

  /** Every alert in order; temporary files are removed once read (or by `discard`). */
  async *sorted(): AsyncGenerator<Alert> {
    for await (const e of this.entries()) yield e.alert ?? (JSON.parse(e.text!) as Alert);
  }

  /** Every alert in order as its JSON text (`JSON.stringify(alert)`). */
  async *sortedText(): AsyncGenerator<string> {
    for await (const e of this.entries()) yield e.text ?? JSON.stringify(e.alert);
  }

  private async *entries(): AsyncGenerator<Entry> {
    this.buffer.sort(byKey);
    if (this.runs.length === 0) {
      yield* this.buffer;
      return;
    }
    // The final merge reads at most FAN_IN runs (and the buffer): the smallest are merged first.
    while (this.runs.length > FAN_IN) {
      // The newest runs are the smallest (levels fall with age) and lie side by side.
      const newest = this.runs.slice(-FAN_IN);
      this.merge(newest, Math.max(...newest.map((r) => r.level)) + 1);
    }
    const sources: AsyncIterator<Entry>[] = this.runs.map((r) => readRun(r.file));
    sources.push(this.buffer[Symbol.iterator]() as unknown as AsyncIterator<Entry>);
    const heads: (Entry | null)[] = [];
    for (const s of sources) heads.push(await nextOf(s));
    try {
      for (;;) {
        // Few runs (one per RUN_SIZE alerts): a linear pick of the smallest head is enough.
        let best = -1;
        for (let i = 0; i < heads.length; i++) {
          const h = heads[i];
          if (h !== null && (best < 0 || byKey(h, heads[best]!) < 0)) best = i;
        }
        if (best < 0) break;
        yield heads[best]!;
        heads[best] = await nextOf(sources[best]);
      }
    } finally {
      for (const s of sources) await s.return?.(undefined);
      this.discard();
    }
  }

  /** Removes the temporary runs (also after an error). */
  discard(): void {
    if (this.dir) removeTempDir(this.dir);
    this.dir = null;
    this.runs.length = 0;
  }
}

async function nextOf(it: AsyncIterator<Entry> | Iterator<Entry>): Promise<Entry | null> {
  const r = await it.next();
  return r.done ? null : r.value;
}

/** A run's next line and its sort key, or null at its end. */
function nextLine(lines: Generator<string>): { key: AlertSortKey; line: string } | null {
  for (let r = lines.next(); !r.done; r = lines.next()) {
    if (r.value === '') continue;
    return { key: JSON.parse(r.value.slice(0, r.value.indexOf('\t'))) as AlertSortKey, line: r.value };
  }
  return null;
}

async function* readRun(file: string): AsyncGenerator<Entry> {
  for (const line of linesOf(file)) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    yield { key: JSON.parse(line.slice(0, tab)) as AlertSortKey, text: line.slice(tab + 1) };
  }
}

/**
 * The lines of a file, read in 64 KB blocks on this thread: a run is read back in thousands of
 * reads, and as asynchronous reads each was a round trip through libuv's thread pool (the merge of
 * a 3,338-alert hunt sat idle for 50 ms). Each line is decoded on its own, so the text stays
 * small (see alert-output.ts on V8's large objects).
 */
function* linesOf(file: string): Generator<string> {
  const fd = openSync(file, 'r');
  try {
    const block = Buffer.allocUnsafe(64 * 1024);
    let carry: Buffer | null = null;
    for (;;) {
      const n = readSync(fd, block, 0, block.length, null);
      if (n === 0) break;
      let start = 0;
      for (let nl = block.indexOf(10, 0); nl >= 0 && nl < n; nl = block.indexOf(10, start)) {
        if (carry) {
          yield Buffer.concat([carry, block.subarray(0, nl)]).toString('utf8');
          carry = null;
        } else yield block.toString('utf8', start, nl);
        start = nl + 1;
      }
      // The rest of the block begins a line that goes on in the next one.
      if (start < n)
        carry = carry
          ? Buffer.concat([carry, block.subarray(start, n)])
          : Buffer.from(block.subarray(start, n));
    }
    if (carry) yield carry.toString('utf8');
  } finally {
    closeSync(fd);
  }
}
