/**
 * Bursts of discovery. One `whoami` or `tasklist` is an administrator's day; the advisory's
 * intruder runs a dozen such commands in minutes from one session. Discovery signals (alerts of
 * tactic discovery at level informational or low: the pack's building-block rules, SigmaHQ's
 * low-level discovery rules) are grouped by the session that ran them (host and logon id), else
 * by host and account; signals no more than `gapMs` apart form one run, and a run of at least
 * `minCommands` distinct command lines becomes one medium alert naming them.
 */
import type { Alert } from '../detect/alert.js';
import { LEVELS, sourceRef } from '../detect/alert.js';
import type { EventView } from '../normalize/normalize.js';
import { accountName, hostKey } from './entities.js';
import { logonIdOf, SHARED_LOGON_IDS } from './sessions.js';

export const BURST_RULE_ID = 'lotl:discovery-burst';
/** The most signals kept (each a few hundred bytes); more are counted. */
export const MAX_SIGNALS = 500_000;
/** Commands named in a burst alert; the count says how many there were. */
const MAX_LISTED = 30;

export interface BurstOptions {
  /** Largest gap between two signals of one burst (default 10 minutes). */
  gapMs?: number;
  /** Distinct command lines that make a burst (default 4). */
  minCommands?: number;
}

/** What a burst needs of a signal (not its event: a hunt may raise many signals). */
interface Signal {
  time: number;
  timeText: string;
  group: string;
  host: string | null;
  user: string | null;
  session: string | null;
  command: string;
  ruleId: string;
  techniques: string[];
  source: Alert['source'];
}

const LOW = LEVELS.indexOf('low');

/** Whether an alert is a discovery signal. */
export function isDiscoverySignal(a: Pick<Alert, 'rule'>): boolean {
  return LEVELS.indexOf(a.rule.level) <= LOW && a.rule.tactics.includes('discovery');
}

export class BurstFinder {
  private readonly signals: Signal[] = [];
  dropped = 0;

  constructor(private readonly options: BurstOptions = {}) {}

  /** Takes an alert; only discovery signals with a time, a host and an actor are kept. */
  add(a: Alert, view?: EventView): void {
    if (!isDiscoverySignal(a) || a.time === null) return;
    const time = Date.parse(a.time);
    const host = hostKey(a.host);
    if (!Number.isFinite(time) || host === null) return;
    const logonId = view ? logonIdOf(view.sigma('LogonId') ?? view.field('SubjectLogonId')) : null;
    const account = a.user ? accountName(a.user) : null;
    const group =
      logonId !== null && !SHARED_LOGON_IDS.has(logonId)
        ? `${host}|${logonId}`
        : account
          ? `${host}|${account.key}`
          : null;
    if (group === null) return;
    if (this.signals.length >= MAX_SIGNALS) {
      this.dropped++;
      return;
    }
    this.signals.push({
      time,
      group,
      host: a.host,
      user: a.user,
      session: logonId,
      command: commandOf(a, view),
      ruleId: a.rule.id,
      techniques: a.rule.techniques,
      source: a.source,
      timeText: a.time,
    });
  }

  /** One alert per burst, in time order. */
  bursts(): Alert[] {
    const gap = this.options.gapMs ?? 10 * 60_000;
    const min = this.options.minCommands ?? 4;
    const byGroup = new Map<string, Signal[]>();
    for (const s of this.signals) {
      const list = byGroup.get(s.group) ?? [];
      list.push(s);
      byGroup.set(s.group, list);
    }
    const out: Alert[] = [];
    for (const list of byGroup.values()) {
      list.sort((a, b) => a.time - b.time || (a.command < b.command ? -1 : a.command > b.command ? 1 : 0));
      let run: Signal[] = [];
      const close = () => {
        const commands = [...new Set(run.map((s) => s.command))];
        if (commands.length >= min) out.push(burstAlert(run, commands));
        run = [];
      };
      for (const s of list) {
        if (run.length > 0 && s.time - run[run.length - 1].time > gap) close();
        run.push(s);
      }
      close();
    }
    return out.sort((a, b) => (a.time! < b.time! ? -1 : a.time! > b.time! ? 1 : 0));
  }
}

/** The command line a signal is about, as one compares them (case and spacing evened out). */
function commandOf(a: Alert, view?: EventView): string {
  const v =
    view?.sigma('CommandLine') ??
    a.event.CommandLine ??
    a.event.ProcessCommandLine ??
    view?.sigma('Image') ??
    a.rule.title;
  return String(v).trim().replace(/\s+/g, ' ').toLowerCase().slice(0, 500);
}

function burstAlert(run: Signal[], commands: string[]): Alert {
  const first = run[0];
  const last = run[run.length - 1];
  const techniques = [...new Set(run.flatMap((s) => s.techniques))].sort();
  const minutes = Math.max(1, Math.round((last.time - first.time) / 60_000));
  return {
    time: first.timeText,
    rule: {
      id: BURST_RULE_ID,
      title: 'Burst Of Discovery Commands',
      level: 'medium',
      kind: 'correlation',
      author: 'lotl',
      techniques,
      tactics: ['discovery'],
    },
    host: first.host,
    user: run.find((s) => s.user !== null)?.user ?? null,
    source: { ...first.source },
    event: {
      summary: `${commands.length} distinct discovery commands in ${minutes} min`,
      first: first.timeText,
      last: last.timeText,
      session: first.session,
      signals: run.length,
      commands: commands.slice(0, MAX_LISTED),
      evidence: run.slice(0, MAX_LISTED).map((s) => `${s.ruleId} ${sourceRef(s.source)}`),
    },
  };
}
