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
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** Alerts held in memory before a run is written (EVTX events average about 9 KB in memory: ~18 MB). */
const RUN_SIZE = 2_000;

/** One alert in the spool: its sort key, and the alert, its JSON text, or both. */
interface Entry {
  key: AlertSortKey;
  alert?: Alert;
  text?: string;
}

const byKey = (a: Entry, b: Entry) => compareSortKeys(a.key, b.key);

export class AlertSpool {
  private buffer: Entry[] = [];
  private readonly runs: string[] = [];
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
    this.dir ??= mkdtempSync(path.join(tmpdir(), 'lotl-alerts-'));
    const file = path.join(this.dir, `run-${this.runs.length}.jsonl`);
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
    this.runs.push(file);
    this.buffer = [];
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
    const sources: AsyncIterator<Entry>[] = this.runs.map((f) => readRun(f));
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
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
    this.runs.length = 0;
  }
}

async function nextOf(it: AsyncIterator<Entry> | Iterator<Entry>): Promise<Entry | null> {
  const r = await it.next();
  return r.done ? null : r.value;
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
