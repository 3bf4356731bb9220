/**
 * Incidents: alerts joined by typed, explained edges into connected groups, each with its hosts,
 * accounts, time span, stages along the ATT&CK tactics, a score with its reasons and the evidence.
 *
 * Edges (each says why two alerts belong together):
 * - `event`: alerts raised on the same event (several rules, one activity);
 * - `process`: the same process on a host (Sysmon 1, 4688 and DeviceProcessEvents of one process
 *   are one activity), or one the parent of the other: by process GUID where the source has one
 *   (within 12 hours), else by process id within 10 minutes (Windows reuses ids soon);
 * - `session`: the same logon session on a host (the process's logon id; not SYSTEM's, LOCAL
 *   SERVICE's or NETWORK SERVICE's, which every service shares);
 * - `account`: the same user account, next alerts no more than `accountWindowMs` apart (24 h
 *   by default) — this is what joins one intruder's steps across hosts;
 * - `indicator`: indicator alerts on the same indicator value.
 * Every alert is considered and the result does not depend on input order (alerts are sorted by
 * their stable key first; edges are symmetric; groups are numbered by their first alert).
 */
import type { Alert, Level } from '../detect/alert.js';
import { LEVELS, sourceRef, TACTICS } from '../detect/alert.js';
import type { EventView } from '../normalize/normalize.js';
import { TRANSFORMS } from '../normalize/transforms.js';
import { accountName, hostKey } from './entities.js';
import type { Hop } from './movement.js';
import { numberText, processKeys } from './process-tree.js';
import { logonIdOf, SHARED_LOGON_IDS } from './sessions.js';

export type EdgeKind = 'event' | 'process' | 'session' | 'account' | 'indicator' | 'lateral';

/** A move between hosts an incident went through (movement.ts finds the sign-ins). */
export interface Movement {
  time: string;
  from: string;
  to: string;
  account: string;
  logonType: string;
  source: string;
}

export interface IncidentAlert {
  time: number | null;
  timeText: string | null;
  host: string | null;
  hostShown: string | null;
  account: string | null;
  accountShown: string | null;
  level: Level;
  ruleId: string;
  title: string;
  tactics: string[];
  where: string;
  /** The acting process by GUID (`host|guid`) and by id (`host|pid:N`), and its parent's. */
  process: string | null;
  pid: string | null;
  parent: string | null;
  parentPid: string | null;
  /** Processes further up (the parent's parent …), from the correlator's process tree. */
  ancestors: string[];
  session: string | null;
  indicator: string | null;
}

export interface Incident {
  id: string;
  hosts: string[];
  accounts: string[];
  first: string | null;
  last: string | null;
  severity: Level;
  score: number;
  stages: { tactic: string; alerts: number }[];
  reasons: string[];
  /** Edges by kind, how many joined this incident. */
  edges: Partial<Record<EdgeKind, number>>;
  /** Sign-ins from one of its hosts to another that joined it (at most 50, in time order). */
  movements: Movement[];
  /** Rule id and file#record of every alert (at most 200 listed), in time order. */
  alerts: string[];
  alertCount: number;
}

/** The most alerts the incident graph holds (each a few hundred bytes); more are counted. */
export const MAX_INCIDENT_ALERTS = 200_000;
/** How long a GUID-less process id is taken to be the same process (ids are reused soon). */
const PID_WINDOW_MS = 10 * 60_000;
/** How long a process is linked to its parent (a GUID is unique; this bounds the id case too). */
const PROCESS_WINDOW_MS = 12 * 3_600_000;

/** What an incident needs of an alert and of the event it was raised on. */
export function incidentAlert(a: Alert, view?: EventView): IncidentAlert {
  const host = hostKey(a.host);
  const acc = a.user ? accountName(a.user) : null;
  const proc = view
    ? processKeys(view)
    : host !== null && a.rule.kind === 'kql'
      ? rowProcess(host, a.event)
      : null;
  const logonId = view ? logonIdOf(view.sigma('LogonId') ?? view.field('SubjectLogonId')) : null;
  const indicator = indicatorOf(a);
  return {
    time: a.time ? Date.parse(a.time) : null,
    timeText: a.time,
    host,
    hostShown: a.host,
    account: acc?.kind === 'user' ? acc.key : null,
    accountShown: acc?.kind === 'user' ? a.user : null,
    level: a.rule.level,
    ruleId: a.rule.id,
    title: a.rule.title,
    tactics: a.rule.tactics,
    where: sourceRef(a.source),
    process: proc?.guid ?? null,
    pid: proc?.pid ?? null,
    parent: proc?.parentGuid ?? null,
    parentPid: proc?.parentPid ?? null,
    ancestors: [],
    session: host && logonId && !SHARED_LOGON_IDS.has(logonId) ? `${host}|${logonId}` : null,
    indicator: indicator !== '' ? indicator.toLowerCase() : null,
  };
}

/**
 * The indicator an alert is about: an IOC alert's matched value; a KQL result row's file hash
 * (the advisory's hash hunts return rows of AlertEvidence and the Device tables).
 */
function indicatorOf(a: Alert): string {
  if (a.rule.kind === 'ioc' && a.match) {
    const ind = a.match.indicator as { value?: unknown } | undefined;
    return String(ind?.value ?? a.match.value ?? '');
  }
  if (a.rule.kind === 'kql' && a.event) {
    for (const column of ['SHA256', 'SHA1', 'MD5']) {
      const v = a.event[column];
      if (typeof v === 'string' && /^[0-9a-f]{32,64}$/i.test(v)) return v;
    }
  }
  return '';
}

/**
 * A KQL result row's process and its parent, by id: Device tables name them ProcessId and
 * InitiatingProcessId; SecurityEvent rows NewProcessId and ProcessId, in hex.
 */
function rowProcess(host: string, row: Record<string, unknown>): ReturnType<typeof processKeys> {
  // Hex (Security) or decimal, as the Security log's own profile reads them.
  const id = (v: unknown) => numberText(TRANSFORMS.hexToInt([v]));
  const security = row.NewProcessId !== undefined && row.NewProcessId !== '';
  const pid = security ? id(row.NewProcessId) : id(row.ProcessId);
  const ppid = security ? id(row.ProcessId) : id(row.InitiatingProcessId);
  return {
    guid: null,
    pid: pid ? `${host}|pid:${pid}` : null,
    parentGuid: null,
    parentPid: ppid ? `${host}|pid:${ppid}` : null,
  };
}

/** Union–find over alert indexes, counting the edges of each kind that joined. */
class Groups {
  private readonly parent: number[];
  constructor(n: number) {
    this.parent = Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    let r = i;
    while (this.parent[r] !== r) r = this.parent[r];
    while (this.parent[i] !== r) {
      const next = this.parent[i];
      this.parent[i] = r;
      i = next;
    }
    return r;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

const LEVEL_POINTS: Record<Level, number> = { informational: 0, low: 2, medium: 8, high: 20, critical: 40 };

export interface IncidentOptions {
  accountWindowMs?: number;
  /** Accounts (shown spelling) with a high unusual sign-in: a reason and points. */
  unusualSignins?: string[];
  /** Sign-ins from one host to another (movement.ts), for the lateral edges. */
  hops?: Hop[];
}

/** The incidents of a set of alerts, highest score first. */
export function buildIncidents(input: IncidentAlert[], options: IncidentOptions = {}): Incident[] {
  const window = options.accountWindowMs ?? 86_400_000;
  // A stable order, whatever the input order: time, then rule, then where.
  const alerts = [...input].sort(
    (a, b) =>
      (a.time ?? 0) - (b.time ?? 0) ||
      (a.ruleId < b.ruleId
        ? -1
        : a.ruleId > b.ruleId
          ? 1
          : a.where < b.where
            ? -1
            : a.where > b.where
              ? 1
              : 0),
  );
  const groups = new Groups(alerts.length);
  const edges: { a: number; b: number; kind: EdgeKind }[] = [];
  const link = (a: number, b: number, kind: EdgeKind) => {
    if (a === b) return;
    groups.union(a, b);
    edges.push({ a, b, kind });
  };
  // Alerts by key: each alert links to the previous one with the same key (a chain is enough to
  // connect them all, and keeps the edges linear in the alerts).
  const chain = (
    key: (x: IncidentAlert) => string | null,
    kind: EdgeKind,
    maxGapMs = Number.POSITIVE_INFINITY,
  ) => {
    const last = new Map<string, number>();
    alerts.forEach((x, i) => {
      const k = key(x);
      if (k === null) return;
      const prev = last.get(k);
      if (
        prev !== undefined &&
        (x.time === null || alerts[prev].time === null || x.time - alerts[prev].time! <= maxGapMs)
      )
        link(prev, i, kind);
      last.set(k, i);
    });
  };
  // Several rules on one event: one activity.
  chain((x) => x.where, 'event');
  chain((x) => x.session, 'session');
  chain((x) => x.account, 'account', window);
  chain((x) => x.indicator, 'indicator');
  // The same process: by GUID, and by id for a short while — which joins one process's Sysmon 1
  // (GUID and id), Security 4688 and DeviceProcessEvents (id only) alerts.
  chain((x) => x.process, 'process', PROCESS_WINDOW_MS);
  chain((x) => x.pid, 'process', PID_WINDOW_MS);
  // Parent, child and further ancestors: an alert joins the first alert of a process it descends
  // from (before or after it: a payload may raise its alert after its children's).
  const byProcess = new Map<string, number[]>();
  alerts.forEach((x, i) => {
    for (const k of [x.process, x.pid]) {
      if (k === null) continue;
      const list = byProcess.get(k);
      if (list) list.push(i);
      else byProcess.set(k, [i]);
    }
  });
  // The alert of a process nearest in time to `time` (lists are in time order).
  const nearest = (list: number[], time: number | null): number => {
    if (time === null) return list[0];
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((alerts[list[mid]].time ?? 0) < time) lo = mid + 1;
      else hi = mid;
    }
    const after = list[Math.min(lo, list.length - 1)];
    const before = list[Math.max(lo - 1, 0)];
    const gap = (j: number) => Math.abs((alerts[j].time ?? time) - time);
    return gap(before) <= gap(after) ? before : after;
  };
  alerts.forEach((x, i) => {
    const up: [string | null, number][] = [
      [x.parent, PROCESS_WINDOW_MS],
      [x.parentPid, PID_WINDOW_MS],
      ...x.ancestors.map((k): [string, number] => [
        k,
        k.includes('|pid:') ? PID_WINDOW_MS : PROCESS_WINDOW_MS,
      ]),
    ];
    for (const [k, within] of up) {
      const list = k === null ? undefined : byProcess.get(k);
      if (list === undefined) continue;
      const p = nearest(list, x.time);
      if (p === i) continue;
      const a = alerts[p].time;
      if (x.time === null || a === null || Math.abs(x.time - a) <= within) link(p, i, 'process');
    }
  });
  const moves = lateralEdges(alerts, options.hops ?? [], window, link);
  // Collect the groups.
  const members = new Map<number, number[]>();
  alerts.forEach((_, i) => {
    const r = groups.find(i);
    const list = members.get(r) ?? [];
    list.push(i);
    members.set(r, list);
  });
  const edgeCounts = new Map<number, Partial<Record<EdgeKind, number>>>();
  for (const e of edges) {
    const r = groups.find(e.a);
    const c = edgeCounts.get(r) ?? {};
    c[e.kind] = (c[e.kind] ?? 0) + 1;
    edgeCounts.set(r, c);
  }
  const unusual = new Set((options.unusualSignins ?? []).map((a) => accountName(a)?.key).filter((k) => k));
  const out: Incident[] = [];
  let n = 0;
  for (const [root, list] of [...members].sort((a, b) => a[0] - b[0])) {
    const xs = list.map((i) => alerts[i]);
    // Building-block signals alone are no incident (an administrator's whoami); they count once
    // joined to something more.
    if (xs.every((x) => x.level === 'informational')) continue;
    const hosts = new Map<string, string>();
    const accounts = new Map<string, string>();
    const tactics = new Map<string, number>();
    const rules = new Map<string, Level>();
    for (const x of xs) {
      if (x.host && !hosts.has(x.host)) hosts.set(x.host, x.hostShown ?? x.host);
      if (x.account && !accounts.has(x.account)) accounts.set(x.account, x.accountShown ?? x.account);
      for (const t of x.tactics) tactics.set(t, (tactics.get(t) ?? 0) + 1);
      rules.set(x.ruleId, x.level);
    }
    const severity = xs.reduce<Level>(
      (m, x) => (LEVELS.indexOf(x.level) > LEVELS.indexOf(m) ? x.level : m),
      'informational',
    );
    const stages = [...tactics]
      .sort((a, b) => rank(a[0]) - rank(b[0]) || (a[0] < b[0] ? -1 : 1))
      .map(([tactic, count]) => ({ tactic, alerts: count }));
    const reasons: string[] = [];
    let score = 0;
    const levelPoints = [...rules.values()].reduce((s, l) => s + LEVEL_POINTS[l], 0);
    score += Math.min(200, levelPoints);
    reasons.push(
      `${rules.size} distinct rule${rules.size === 1 ? '' : 's'} (${levelPoints} points by level)`,
    );
    score += 10 * stages.length;
    reasons.push(`${stages.length} ATT&CK tactic${stages.length === 1 ? '' : 's'}`);
    if (tactics.has('credential-access')) {
      score += 30;
      reasons.push('credential access');
    }
    if (hosts.size > 1) {
      score += 10 * (hosts.size - 1);
      reasons.push(`${hosts.size} hosts`);
    }
    const signedIn = [...accounts.keys()].filter((k) => unusual.has(k));
    if (signedIn.length > 0) {
      score += 20;
      reasons.push(`unusual sign-in of ${signedIn.map((k) => accounts.get(k)).join(', ')}`);
    }
    const movements = moves.filter((m) => groups.find(m.index) === root).map((m) => m.movement);
    if (movements.length > 0) {
      score += 10;
      const hops = [...new Set(movements.map((m) => `${m.from} → ${m.to}`))];
      reasons.push(`lateral movement ${hops.slice(0, 5).join(', ')}${hops.length > 5 ? ' …' : ''}`);
    }
    const times = xs.map((x) => x.timeText).filter((t): t is string => t !== null);
    out.push({
      id: `INC-${++n}`,
      hosts: [...hosts.values()],
      accounts: [...accounts.values()],
      first: times[0] ?? null,
      last: times.at(-1) ?? null,
      severity,
      score,
      stages,
      reasons,
      edges: edgeCounts.get(root) ?? {},
      movements: movements.slice(0, 50),
      alerts: xs.slice(0, 200).map((x) => `${x.ruleId} ${x.where}`),
      alertCount: xs.length,
    });
  }
  return out.sort(
    (a, b) =>
      b.score - a.score ||
      (a.id < b.id ? -1 : 1) * (Number(a.id.slice(4)) - Number(b.id.slice(4)) < 0 ? 1 : -1),
  );
}

/**
 * The lateral edges: for each sign-in from host A to host B, the account's last alert on A at or
 * before it joins the first alert on B at or after it, by the account or in the session the
 * sign-in opened (each within `window`). Alerts are in time order, so index order is time order.
 */
function lateralEdges(
  alerts: IncidentAlert[],
  hops: Hop[],
  window: number,
  link: (a: number, b: number, kind: EdgeKind) => void,
): { index: number; movement: Movement }[] {
  if (hops.length === 0) return [];
  const byActor = new Map<string, number[]>();
  const push = (key: string, i: number) => {
    const list = byActor.get(key);
    if (list) list.push(i);
    else byActor.set(key, [i]);
  };
  alerts.forEach((x, i) => {
    if (x.time === null || x.host === null) return;
    if (x.account !== null) push(`${x.host}\u0000${x.account}`, i);
    if (x.session !== null) push(`session\u0000${x.session}`, i);
  });
  // The first position in `list` whose alert is at or after `time`.
  const firstAtOrAfter = (list: number[], time: number) => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (alerts[list[mid]].time! < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const out: { index: number; movement: Movement }[] = [];
  for (const hop of hops) {
    const onSource = byActor.get(`${hop.from}\u0000${hop.account}`) ?? [];
    const b = firstAtOrAfter(onSource, hop.time + 1) - 1;
    if (b < 0 || hop.time - alerts[onSource[b]].time! > window) continue;
    const before = onSource[b];
    let after: number | undefined;
    for (const list of [
      byActor.get(`${hop.to}\u0000${hop.account}`),
      hop.session ? byActor.get(`session\u0000${hop.session}`) : undefined,
    ]) {
      if (!list) continue;
      const a = firstAtOrAfter(list, hop.time);
      if (
        a < list.length &&
        alerts[list[a]].time! - hop.time <= window &&
        (after === undefined || list[a] < after)
      )
        after = list[a];
    }
    if (after === undefined) continue;
    link(before, after, 'lateral');
    out.push({
      index: before,
      movement: {
        time: new Date(hop.time).toISOString(),
        from: alerts[before].hostShown ?? hop.from,
        to: alerts[after].hostShown ?? hop.to,
        account: alerts[before].accountShown ?? hop.account,
        logonType: hop.logonType,
        source: hop.source,
      },
    });
  }
  return out;
}

function rank(tactic: string): number {
  const i = TACTICS.indexOf(tactic);
  return i < 0 ? TACTICS.length : i;
}
