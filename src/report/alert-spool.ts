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
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import {
  type Alert,
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

  /** Adds an alert; `text`, when given, is exactly `JSON.stringify(alert)` and is kept instead of it. */
  add(alert: Alert, text?: string): void {
    const key = alertSortKey(alert);
    this.buffer.push(text === undefined ? { key, alert } : { key, text });
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
  // Small reads keep the decoded text below V8's large-object size (see alert-output.ts).
  const input = createReadStream(file, { highWaterMark: 16 * 1024 });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    yield { key: JSON.parse(line.slice(0, tab)) as AlertSortKey, text: line.slice(tab + 1) };
  }
}
