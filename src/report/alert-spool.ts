/**
 * Alerts in their stable order (time, rule, file, record) with bounded memory: a hunt over many
 * gigabytes can raise hundreds of thousands of alerts, each carrying its event. Up to `runSize`
 * are kept in memory; beyond that each full buffer is sorted and written to a temporary file as
 * JSON lines, and the output is a merge of those runs. Counts by level are kept as alerts arrive.
 */
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { type Alert, compareAlerts, LEVELS, type Level } from '../detect/alert.js';

/** Alerts held in memory before a run is written (EVTX events average about 9 KB in memory: ~18 MB). */
const RUN_SIZE = 2_000;

export class AlertSpool {
  private buffer: Alert[] = [];
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

  add(alert: Alert): void {
    this.buffer.push(alert);
    this.total++;
    this.byLevel[alert.rule.level]++;
    // Logs name one host FS02.corp.local and fs02.corp.local: counted as one, lower-cased.
    const host = alert.host?.toLowerCase() ?? '-';
    this.byHost.set(host, (this.byHost.get(host) ?? 0) + 1);
    this.byRule.set(alert.rule.title, (this.byRule.get(alert.rule.title) ?? 0) + 1);
    const src = alert.source;
    this.events.add(`${src.file}\u0000${src.record ?? src.line ?? src.offset ?? alert.time}`);
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
    this.buffer.sort(compareAlerts);
    this.dir ??= mkdtempSync(path.join(tmpdir(), 'lotl-alerts-'));
    const file = path.join(this.dir, `run-${this.runs.length}.jsonl`);
    const fd = openSync(file, 'w');
    try {
      // Written in pieces below V8's large-object size, like the output (alert-output.ts).
      let text = '';
      for (const a of this.buffer) {
        text += `${JSON.stringify(a)}\n`;
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
    this.buffer.sort(compareAlerts);
    if (this.runs.length === 0) {
      yield* this.buffer;
      return;
    }
    const sources: AsyncIterator<Alert>[] = this.runs.map((f) => readRun(f));
    sources.push(this.buffer[Symbol.iterator]() as unknown as AsyncIterator<Alert>);
    const heads: (Alert | null)[] = [];
    for (const s of sources) heads.push(await nextOf(s));
    try {
      for (;;) {
        // Few runs (one per RUN_SIZE alerts): a linear pick of the smallest head is enough.
        let best = -1;
        for (let i = 0; i < heads.length; i++) {
          const h = heads[i];
          if (h !== null && (best < 0 || compareAlerts(h, heads[best]!) < 0)) best = i;
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

async function nextOf(it: AsyncIterator<Alert> | Iterator<Alert>): Promise<Alert | null> {
  const r = await it.next();
  return r.done ? null : r.value;
}

async function* readRun(file: string): AsyncGenerator<Alert> {
  // Small reads keep the decoded text below V8's large-object size (see alert-output.ts).
  const input = createReadStream(file, { highWaterMark: 16 * 1024 });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) if (line !== '') yield JSON.parse(line) as Alert;
}
