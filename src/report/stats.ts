/**
 * What `lotl stats` reports: events per format, channel, EventID, host and source profile, the
 * time range, and every input problem. Counting is separate from rendering so the same figures
 * go to the terminal table and to JSON.
 */
import pc from 'picocolors';
import type { InputProblem } from '../ingest/raw-event.js';
import type { EventView } from '../normalize/normalize.js';
import { printable } from './terminal-text.js';

export interface StatsReport {
  files: number;
  events: number;
  rejected: number;
  first: string | null;
  last: string | null;
  byFormat: Record<string, number>;
  byChannel: Record<string, number>;
  byEventId: Record<string, number>;
  byHost: Record<string, number>;
  byProfile: Record<string, number>;
  byFile: Record<string, number>;
  problems: InputProblem[];
  skipped: InputProblem[];
}

const SKIP_CODES = new Set(['SKIPPED_FILE', 'SKIPPED_MEMBER']);

export class StatsCollector {
  private events = 0;
  private rejected = 0;
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;
  private readonly byFormat = new Map<string, number>();
  private readonly byChannel = new Map<string, number>();
  private readonly byEventId = new Map<string, number>();
  private readonly byHost = new Map<string, number>();
  private readonly byProfile = new Map<string, number>();
  private readonly byFile = new Map<string, number>();
  private readonly files = new Set<string>();
  private readonly problems: InputProblem[] = [];
  private readonly skipped: InputProblem[] = [];

  addEvent(view: EventView): void {
    const raw = view.raw;
    this.events++;
    bump(this.byFormat, raw.origin.format);
    const channel = raw.channel ?? '(none)';
    bump(this.byChannel, channel);
    bump(this.byEventId, raw.eventId === null ? `${channel}` : `${channel}:${raw.eventId}`);
    bump(this.byHost, raw.computer ?? '(unknown)');
    bump(this.byProfile, view.profile?.profile.id ?? '(unrecognised)');
    bump(this.byFile, raw.origin.file);
    this.files.add(raw.origin.file);
    if (raw.time !== null) {
      if (raw.time < this.first) this.first = raw.time;
      if (raw.time > this.last) this.last = raw.time;
    }
  }

  addProblem(problem: InputProblem): void {
    if (SKIP_CODES.has(problem.code)) this.skipped.push(problem);
    else {
      this.problems.push(problem);
      this.rejected += problem.rejected;
    }
  }

  get problemCount(): number {
    return this.problems.length;
  }

  report(): StatsReport {
    return {
      files: this.files.size,
      events: this.events,
      rejected: this.rejected,
      first: Number.isFinite(this.first) ? new Date(this.first).toISOString() : null,
      last: Number.isFinite(this.last) ? new Date(this.last).toISOString() : null,
      byFormat: sorted(this.byFormat),
      byChannel: sorted(this.byChannel),
      byEventId: sorted(this.byEventId),
      byHost: sorted(this.byHost),
      byProfile: sorted(this.byProfile),
      byFile: Object.fromEntries([...this.byFile.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      problems: this.problems,
      skipped: this.skipped,
    };
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Most frequent first, then by name, so output is stable. */
function sorted(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries(
    [...map.entries()].sort(([ka, a], [kb, b]) => b - a || (ka < kb ? -1 : ka > kb ? 1 : 0)),
  );
}

/** Where a problem is, for a terminal: the file name with its control characters made visible. */
export function location(p: InputProblem): string {
  const file = printable(p.file);
  if (p.line !== undefined) return `${file}:${p.line}`;
  if (p.offset !== undefined) return `${file}@${p.offset}`;
  return file;
}

export interface RenderOptions {
  /** Rows per breakdown table; the rest is summed into one line. */
  top: number;
  color: boolean;
  perFile: boolean;
}

export function renderStats(r: StatsReport, opts: RenderOptions): string {
  const c = opts.color ? pc : pc.createColors(false);
  const lines: string[] = [];
  lines.push(c.bold('Summary'));
  lines.push(`  events read      ${fmt(r.events)}`);
  lines.push(`  events rejected  ${fmt(r.rejected)}`);
  lines.push(`  files with events ${fmt(r.files)}`);
  lines.push(`  time range       ${r.first ?? '-'} .. ${r.last ?? '-'}`);
  lines.push(
    `  input problems   ${r.problems.length === 0 ? c.green('0') : c.red(String(r.problems.length))}`,
  );
  lines.push(`  skipped (not log data) ${r.skipped.length}`);
  const section = (title: string, rows: Record<string, number>) => {
    lines.push('');
    lines.push(c.bold(title));
    const entries = Object.entries(rows);
    const shown = entries.slice(0, opts.top);
    const width = shown.reduce((w, [, n]) => Math.max(w, fmt(n).length), 1);
    for (const [k, n] of shown) lines.push(`  ${fmt(n).padStart(width)}  ${printable(k)}`);
    if (entries.length > shown.length) {
      const rest = entries.slice(shown.length).reduce((s, [, n]) => s + n, 0);
      lines.push(c.dim(`  ${fmt(rest).padStart(width)}  (${entries.length - shown.length} more)`));
    }
  };
  section('By format', r.byFormat);
  section('By source profile', r.byProfile);
  section('By channel', r.byChannel);
  section('By channel:EventID', r.byEventId);
  section('By host', r.byHost);
  if (opts.perFile) section('By file', r.byFile);
  if (r.problems.length > 0) {
    lines.push('');
    lines.push(c.bold(c.red('Input problems')));
    for (const p of r.problems) lines.push(`  ${location(p)}: ${c.red(p.code)} ${printable(p.message)}`);
  }
  if (r.skipped.length > 0) {
    lines.push('');
    lines.push(c.bold('Skipped'));
    for (const p of r.skipped.slice(0, opts.top))
      lines.push(c.dim(`  ${location(p)}: ${printable(p.message)}`));
    if (r.skipped.length > opts.top) lines.push(c.dim(`  … and ${r.skipped.length - opts.top} more`));
  }
  return `${lines.join('\n')}\n`;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
