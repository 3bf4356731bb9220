/**
 * The correlate stage fed by a hunt: every event goes to the logon-session table and the sign-in
 * baselines, every alert's facts are kept (small, bounded); at the end it answers with the unusual
 * sign-ins and the accounts to reset. It needs every event in one stream (hunts that correlate do
 * not hand EVTX chunks to the parser threads).
 */
import type { Alert } from '../detect/alert.js';
import type { EventView } from '../normalize/normalize.js';
import { type AccountToReset, type AlertFacts, accountsToReset, alertFacts } from './accounts.js';
import { BurstFinder } from './bursts.js';
import { Coverage, type LogStream } from './coverage.js';
import { AccountNames, HostNames } from './entities.js';
import {
  buildIncidents,
  type Incident,
  type IncidentAlert,
  incidentAlert,
  MAX_INCIDENT_ALERTS,
} from './incidents.js';
import { logonOf } from './logons.js';
import { MovementFinder } from './movement.js';
import { MAX_PROCESSES, ProcessTree } from './process-tree.js';
import { SessionTable } from './sessions.js';
import { escalate, SigninBaseline, type SigninOptions, type UnusualSignin } from './signins.js';

/** Credential-access and lateral-movement alerts whose facts are kept for the reset list. */
export const MAX_KEPT_ALERTS = 1_000_000;

export interface Answers {
  incidents: Incident[];
  accounts: AccountToReset[];
  signins: UnusualSignin[];
  /** The log streams read: hosts, channels, time spans, record numbers and their gaps. */
  coverage: LogStream[];
  /** Bounds reached, as sentences. */
  limits: string[];
}

export class Correlator {
  private readonly hosts = new HostNames();
  private readonly accounts = new AccountNames();
  private readonly sessions = new SessionTable(this.hosts, this.accounts);
  private readonly signins: SigninBaseline;
  private readonly alerts: AlertFacts[] = [];
  private droppedAlerts = 0;
  private readonly graph: IncidentAlert[] = [];
  private droppedGraph = 0;
  private readonly signals = new BurstFinder();
  private readonly movement = new MovementFinder(this.hosts);
  private readonly tree = new ProcessTree();
  private readonly coverage = new Coverage();
  private found: Alert[] | null = null;

  constructor(options: SigninOptions = {}) {
    this.signins = new SigninBaseline(options, this.hosts, this.accounts);
  }

  event(view: EventView): void {
    this.coverage.event(view);
    // A sign-in is read once, for both the sessions and the baselines.
    const logon = logonOf(view, this.hosts, this.accounts);
    if (logon === null) {
      this.sessions.add(view);
      this.movement.learn(view);
      this.tree.add(view);
    } else {
      this.sessions.opened(logon);
      this.signins.addLogon(logon);
      this.movement.signin(logon);
    }
  }

  /** An alert, with the event it was raised on when there is one (correlation and KQL alerts have none). */
  alert(a: Alert, view?: EventView): void {
    this.signals.add(a, view);
    if (this.graph.length < MAX_INCIDENT_ALERTS) this.graph.push(incidentAlert(a, view));
    else this.droppedGraph++;
    if (!a.rule.tactics.includes('credential-access') && !a.rule.tactics.includes('lateral-movement')) return;
    if (this.alerts.length >= MAX_KEPT_ALERTS) {
      this.droppedAlerts++;
      return;
    }
    this.alerts.push(alertFacts(a));
  }

  /**
   * The alerts the correlate stage raises itself (bursts of discovery), once every alert is in:
   * the hunt writes them with the others, and they join the incidents. `exclude`: rules the user
   * left out (`--exclude-rule`), given the first time.
   */
  correlationAlerts(exclude?: (a: Alert) => boolean): Alert[] {
    if (this.found === null) this.found = this.signals.bursts().filter((b) => !exclude?.(b));
    return this.found;
  }

  /** The answers at the end of a hunt (with the bursts correlationAlerts gave). */
  answers(): Answers {
    return this.answersWith(this.correlationAlerts());
  }

  /**
   * The answers so far, for a correlate stage that goes on being fed (a server's): the bursts
   * worked out anew, nothing of the stage's state changed by the asking.
   */
  answersNow(): { answers: Answers; bursts: Alert[] } {
    const bursts = this.signals.bursts();
    return { answers: this.answersWith(bursts), bursts };
  }

  private answersWith(bursts: Alert[]): Answers {
    const graph = this.graph.slice();
    let droppedGraph = this.droppedGraph;
    for (const b of bursts) {
      const x = incidentAlert(b);
      const session = typeof b.event.session === 'string' ? b.event.session : null;
      if (x.host !== null && session !== null) x.session = `${x.host}|${session}`;
      if (graph.length < MAX_INCIDENT_ALERTS) graph.push(x);
      else droppedGraph++;
    }
    // In time order (then rule, then place): the reset list names rules, hosts and evidence
    // in the order they happened, whatever order the inputs were read in.
    const facts = this.alerts.slice().sort(byTimeRulePlace);
    const signins = escalate(this.signins.unusual(), facts);
    const limits: string[] = [];
    if (this.sessions.dropped > 0)
      limits.push(`${this.sessions.dropped.toLocaleString('en-US')} oldest logon sessions forgotten`);
    if (this.signins.dropped > 0)
      limits.push(`${this.signins.dropped.toLocaleString('en-US')} sign-ins past the baseline's bound`);
    if (this.droppedAlerts > 0)
      limits.push(
        `${this.droppedAlerts.toLocaleString('en-US')} credential-access and lateral-movement alerts past the bound`,
      );
    if (this.movement.dropped > 0)
      limits.push(
        `${this.movement.dropped.toLocaleString('en-US')} remote sign-ins past the lateral-movement bound`,
      );
    if (this.signals.dropped > 0)
      limits.push(
        `${this.signals.dropped.toLocaleString('en-US')} discovery signals past the burst finder's bound`,
      );
    if (this.coverage.dropped > 0)
      limits.push(
        `${this.coverage.dropped.toLocaleString('en-US')} events of log streams past the coverage bound`,
      );
    if (this.tree.forgotten > 0)
      limits.push(
        `${this.tree.forgotten.toLocaleString('en-US')} oldest processes forgotten by the process tree (${MAX_PROCESSES.toLocaleString('en-US')} kept)`,
      );
    if (droppedGraph > 0)
      limits.push(
        `${droppedGraph.toLocaleString('en-US')} alerts past the incident graph's bound (${MAX_INCIDENT_ALERTS.toLocaleString('en-US')})`,
      );
    // Each alert's ancestors as the process tree knows them now (copies: a later ask may know more).
    const placed = graph.map((x) =>
      x.ancestors.length === 0
        ? { ...x, ancestors: this.tree.ancestors(x.parent ?? x.parentPid, x.time) }
        : x,
    );
    const incidents = buildIncidents(placed, {
      unusualSignins: signins.filter((s) => s.severity === 'high').map((s) => s.account),
      hops: this.movement.hops(),
    });
    return {
      incidents,
      accounts: accountsToReset(facts, this.sessions, signins),
      signins,
      coverage: this.coverage.streamsSeen(),
      limits,
    };
  }
}

function byTimeRulePlace(a: AlertFacts, b: AlertFacts): number {
  const ta = a.time ?? '';
  const tb = b.time ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (a.ruleId !== b.ruleId) return a.ruleId < b.ruleId ? -1 : 1;
  return a.where < b.where ? -1 : a.where > b.where ? 1 : 0;
}
