/**
 * The HTML report's sections that do not change as the reader filters: written here as HTML, so
 * they read without the page's script and are compared as text by the golden tests. Every value
 * from the logs, the rules or the file names goes through esc().
 */

import type { Answers } from '../../correlate/correlator.js';
import type { Incident } from '../../correlate/incidents.js';
import type { Level } from '../../detect/alert.js';
import { LEVELS, TACTICS } from '../../detect/alert.js';
import type { ReportAlertsBuilder, RuleEntry } from './report-data.js';

/** What the report is made of, besides the alerts. */
export interface ReportFacts {
  version: string;
  /** The paths the user gave. */
  inputs: string[];
  events: number;
  answers: Answers;
  /** Input problems (the first MAX_PROBLEMS_LISTED) and how many there were. */
  problems: { where: string; code: string; message: string }[];
  problemCount: number;
  /** Rules and queries that could not be loaded or compiled. */
  ruleProblems: { file: string; message: string }[];
  /** Alerts of rules left out with --exclude-rule. */
  excluded: number;
  /** Sigma rules no event reached, by logsource: their logs were not among the inputs. */
  unreached: { logsource: string; rules: number; titles: string[] }[];
  /** The text behind each rule that raised alerts, by rule id (the appendix). */
  ruleSources: Map<string, { file: string; text: string }>;
}

export const MAX_PROBLEMS_LISTED = 500;
/** Of one rule's text in the appendix, and of all of them. */
export const MAX_SOURCE_CHARS = 20_000;
export const MAX_APPENDIX_CHARS = 2_000_000;

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Text for HTML: markup characters escaped, control characters shown as U+FFFD. */
export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(CONTROL, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const n = (v: number) => v.toLocaleString('en-US');
const iso = (t: number | null) => (t === null ? '—' : new Date(t).toISOString().replace('.000Z', 'Z'));
const level = (l: Level | string) =>
  `<span class="lvl lvl-${esc(l)}">${esc(l === 'informational' ? 'info' : l)}</span>`;

function table(head: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="empty">${esc(empty)}</p>`;
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>\n`;
}

export function headerSection(facts: ReportFacts, alerts: ReportAlertsBuilder): string {
  const span = alerts.first === null ? 'no timed alerts' : `${iso(alerts.first)} – ${iso(alerts.last)}`;
  return `<header><h1>lotl report</h1><p>${esc(`lotl ${facts.version}`)} · ${n(facts.events)} events · ${n(
    alerts.count,
  )} alerts · ${esc(span)}</p><p class="inputs">${facts.inputs.map((i) => `<code>${esc(i)}</code>`).join(' ')}</p><nav>${[
    ['summary', 'Summary'],
    ['incidents', 'Incidents'],
    ['accounts', 'Accounts'],
    ['signins', 'Sign-ins'],
    ['timeline', 'Timeline'],
    ['matrix', 'ATT&CK'],
    ['iocs', 'IOC hits'],
    ['alerts', 'Alerts'],
    ['coverage', 'Coverage'],
    ['appendix', 'Rules'],
  ]
    .map(([id, label]) => `<a href="#${id}">${esc(label)}</a>`)
    .join(' ')}</nav></header>\n`;
}

export function summarySection(alerts: ReportAlertsBuilder, answers: Answers): string {
  const levels = [...LEVELS].reverse().map((l) => [level(l), n(alerts.byLevel[l])]);
  const hosts = [...alerts.byHost.values()]
    .sort((a, b) => b.alerts - a.alerts || (a.name < b.name ? -1 : 1))
    .slice(0, 25)
    .map((h) => [esc(h.name || '(no host)'), n(h.alerts)]);
  const shown = answers.incidents.filter((i) => i.severity !== 'informational');
  const facts = `<ul class="facts"><li><b>${n(shown.length)}</b> incidents</li><li><b>${n(
    answers.accounts.length,
  )}</b> accounts to reset</li><li><b>${n(answers.signins.length)}</b> unusual sign-ins (${n(
    answers.signins.filter((s) => s.severity === 'high').length,
  )} high)</li><li><b>${n(alerts.count)}</b> alerts</li></ul>`;
  return section(
    'summary',
    'Summary',
    `${facts}<div class="cols"><div><h3>By level</h3>${table(['level', 'alerts'], levels, 'No alerts.')}</div><div><h3>By host (top 25)</h3>${table(
      ['host', 'alerts'],
      hosts,
      'No alerts.',
    )}</div><div><h3>By date</h3>${table(
      ['date (UTC)', ...[...LEVELS].reverse()],
      [...alerts.byDay]
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .slice(0, 60)
        .map(([day, c]) => [esc(day), ...[...LEVELS].reverse().map((l) => (c[l] ? n(c[l]) : ''))]),
      'No timed alerts.',
    )}</div></div>`,
  );
}

function chain(i: Incident): string {
  return i.stages
    .map((s) => `<span class="stage">${esc(s.tactic)} <small>${n(s.alerts)}</small></span>`)
    .join(' → ');
}

export function incidentsSection(answers: Answers, rules: Map<string, RuleEntry>): string {
  const shown = answers.incidents.filter((i) => i.severity !== 'informational');
  if (shown.length === 0) return section('incidents', 'Incidents', '<p class="empty">No incidents.</p>');
  const body = shown
    .map((i) => {
      const alertRows = i.alerts.map((ref) => {
        const space = ref.indexOf(' ');
        const id = space < 0 ? ref : ref.slice(0, space);
        const rule = rules.get(id);
        return [
          rule ? level(rule.level) : '',
          esc(rule?.title ?? id),
          `<code>${esc(ref.slice(space + 1))}</code>`,
        ];
      });
      const moves = i.movements.map((m) => [
        esc(m.time),
        esc(m.from),
        esc(m.to),
        esc(m.account),
        esc(m.logonType),
        esc(m.source),
      ]);
      const edges = Object.entries(i.edges)
        .map(([k, v]) => `${esc(k)} ${n(v ?? 0)}`)
        .join(', ');
      return `<article class="incident sev-${esc(i.severity)}" id="incident-${esc(i.id)}"><h3>${esc(i.id)} ${level(
        i.severity,
      )} <small>score ${n(i.score)}</small></h3><dl><dt>Hosts</dt><dd>${i.hosts.map(esc).join(', ')}</dd><dt>Accounts</dt><dd>${
        i.accounts.map(esc).join(', ') || '—'
      }</dd><dt>Time</dt><dd>${esc(i.first ?? '—')} – ${esc(i.last ?? '—')}</dd><dt>Chain</dt><dd class="chain">${chain(
        i,
      )}</dd><dt>Joined by</dt><dd>${edges || '—'}</dd></dl><h4>Why</h4><ul>${i.reasons
        .map((r) => `<li>${esc(r)}</li>`)
        .join('')}</ul>${
        moves.length > 0
          ? `<h4>Movements</h4>${table(['time', 'from', 'to', 'account', 'logon type', 'source'], moves, '')}`
          : ''
      }<details><summary>${n(i.alertCount)} alerts${
        i.alertCount > i.alerts.length ? ` (the first ${n(i.alerts.length)} listed)` : ''
      }</summary>${table(['level', 'rule', 'evidence'], alertRows, '')}</details></article>`;
    })
    .join('');
  return section('incidents', 'Incidents', body);
}

/** The advisory's remediation, as steps to tick. */
const REMEDIATION = [
  'Identify LSASS dumping and domain controller installation media creation to identify affected accounts (the reasons below).',
  'Examine the activity of each compromised account for malicious actions or exposed data (its incidents and alerts).',
  'Close or change the credentials of every account listed; reset krbtgt twice, with replication between the two resets, when the AD database was copied.',
  'Enforce strong multi-factor authentication for the accounts, and deactivate unused ones.',
  'Harden LSASS (LSA protection, Credential Guard) and block credential stealing from LSASS and process creation from PsExec and WMI (attack surface reduction rules).',
];

export function accountsSection(answers: Answers): string {
  const steps = `<h3>Remediation checklist (Microsoft's Volt Typhoon advisory)</h3><ol class="checklist">${REMEDIATION.map(
    (s) => `<li><label><input type="checkbox"> ${esc(s)}</label></li>`,
  ).join('')}</ol>`;
  const rows = answers.accounts.map((a) => [
    `<b>${esc(a.account)}</b>`,
    esc(a.action),
    esc(a.reason),
    `<details><summary>${n(a.evidence.length)}</summary><ul>${a.evidence
      .map((e) => `<li><code>${esc(e)}</code></li>`)
      .join('')}</ul></details>`,
  ]);
  return section(
    'accounts',
    'Affected accounts',
    `${table(['account', 'action', 'reason', 'evidence'], rows, 'No account to reset.')}${steps}`,
  );
}

export function signinsSection(answers: Answers): string {
  const rows = answers.signins.map((s) => [
    esc(s.time ?? '—'),
    `<b>${esc(s.account)}</b>`,
    esc(s.ip),
    esc(s.host),
    esc(s.logonType),
    level(s.severity),
    esc(s.why.join('; ')),
  ]);
  return section(
    'signins',
    'Unusual sign-ins',
    table(
      ['time', 'account', 'source', 'host', 'logon type', 'severity', 'why'],
      rows,
      'No unusual sign-in.',
    ),
  );
}

/** Bins of a timeline: the smallest width of the ladder that needs at most MAX_BINS bars. */
const BIN_WIDTHS_MS = [
  60_000,
  600_000,
  3_600_000,
  6 * 3_600_000,
  86_400_000,
  7 * 86_400_000,
  30 * 86_400_000,
  365 * 86_400_000,
];
const MAX_BINS = 160;

export function timelineBins(
  alerts: ReportAlertsBuilder,
): { start: number; width: number; counts: Record<Level, number>[] } | null {
  if (alerts.first === null || alerts.last === null) return null;
  const span = alerts.last - alerts.first;
  const width =
    BIN_WIDTHS_MS.find((w) => span / w < MAX_BINS) ?? Math.ceil(span / MAX_BINS / 86_400_000) * 86_400_000;
  const start = Math.floor(alerts.first / width) * width;
  const bins = Math.floor((alerts.last - start) / width) + 1;
  const counts = Array.from({ length: bins }, () => ({
    informational: 0,
    low: 0,
    medium: 0,
    high: 0,
    critical: 0,
  }));
  const data = alerts.build();
  const { time, rule } = data.columns;
  for (let i = 0; i < time.length; i++) {
    const t = time[i];
    if (t === null) continue;
    counts[Math.floor((t - start) / width)][data.rules[rule[i]].level]++;
  }
  return { start, width, counts };
}

export function timelineSection(alerts: ReportAlertsBuilder): string {
  const bins = timelineBins(alerts);
  if (!bins) return section('timeline', 'Timeline', '<p class="empty">No timed alerts.</p>');
  const W = 960;
  const H = 200;
  const bar = W / bins.counts.length;
  const max = Math.max(1, ...bins.counts.map((c) => LEVELS.reduce((s, l) => s + c[l], 0)));
  const rects: string[] = [];
  bins.counts.forEach((c, i) => {
    let y = H;
    const total = LEVELS.reduce((s, l) => s + c[l], 0);
    if (total === 0) return;
    for (const l of LEVELS) {
      if (c[l] === 0) continue;
      const h = Math.max(1, (c[l] / max) * (H - 10));
      y -= h;
      rects.push(
        `<rect class="bar-${l}" x="${(i * bar).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, bar - 1).toFixed(1)}" height="${h.toFixed(1)}"><title>${esc(
          `${iso(bins.start + i * bins.width)}: ${n(c[l])} ${l}`,
        )}</title></rect>`,
      );
    }
  });
  const width = bins.width;
  const unit =
    width >= 86_400_000
      ? `${width / 86_400_000} day`
      : width >= 3_600_000
        ? `${width / 3_600_000} h`
        : `${width / 60_000} min`;
  return section(
    'timeline',
    'Timeline',
    `<p>Alerts per ${esc(unit)} (UTC), by level; the busiest bar holds ${n(max)}.</p><svg class="timeline" viewBox="0 0 ${W} ${H + 20}" role="img" aria-label="alerts over time">${rects.join(
      '',
    )}<text x="0" y="${H + 15}">${esc(iso(bins.start))}</text><text x="${W}" y="${H + 15}" text-anchor="end">${esc(
      iso(bins.start + bins.counts.length * width),
    )}</text></svg>`,
  );
}

export function matrixSection(alerts: ReportAlertsBuilder, rules: RuleEntry[]): string {
  // Tactic → technique → alerts, from the rules' tags; and the rules behind each cell.
  const cells = new Map<string, Map<string, number>>();
  const titles = new Map<string, Set<string>>();
  for (const r of rules) {
    const count = alerts.byRule.get(r.id) ?? 0;
    for (const tactic of r.tactics.length > 0 ? r.tactics : ['(no tactic)'])
      for (const t of r.techniques.length > 0 ? r.techniques : ['(no technique)']) {
        let row = cells.get(tactic);
        if (!row) {
          row = new Map();
          cells.set(tactic, row);
        }
        row.set(t, (row.get(t) ?? 0) + count);
        const key = `${tactic} ${t}`;
        if (!titles.has(key)) titles.set(key, new Set());
        titles.get(key)!.add(r.title);
      }
  }
  if (cells.size === 0) return section('matrix', 'ATT&CK matrix', '<p class="empty">No alerts.</p>');
  const max = Math.max(1, ...[...cells.values()].flatMap((m) => [...m.values()]));
  const heat = (c: number) => Math.min(5, 1 + Math.floor((Math.log10(c + 1) / Math.log10(max + 1)) * 4.999));
  const order = [...TACTICS, '(no tactic)'].filter((t) => cells.has(t));
  for (const t of cells.keys()) if (!order.includes(t)) order.push(t);
  const columns = order
    .map((tactic) => {
      const techniques = [...cells.get(tactic)!].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      return `<div class="tactic"><h3>${esc(tactic)}</h3>${techniques
        .map(
          ([t, c]) =>
            `<div class="technique heat-${heat(c)}" title="${esc(`${t}: ${n(c)} alerts — ${[...(titles.get(`${tactic} ${t}`) ?? [])].slice(0, 10).join('; ')}`)}"><code>${esc(t)}</code> <small>${n(c)}</small></div>`,
        )
        .join('')}</div>`;
    })
    .join('');
  return section(
    'matrix',
    'ATT&CK matrix',
    `<p>Techniques of the rules that raised alerts, under their tactics; darker is more alerts.</p><div class="matrix">${columns}</div>`,
  );
}

export function iocSection(alerts: ReportAlertsBuilder): string {
  const rows = alerts.iocHits.map((h) => [
    esc(h.time ?? '—'),
    esc(h.host ?? ''),
    esc(h.rule),
    `<code>${esc(h.match)}</code>`,
    `<code>${esc(h.source)}</code>`,
  ]);
  const more =
    alerts.iocCount > rows.length
      ? `<p>${n(alerts.iocCount - rows.length)} more in the alerts below.</p>`
      : '';
  return section(
    'iocs',
    'IOC hits',
    `${table(['time', 'host', 'indicator set', 'match', 'event'], rows, 'No indicator matched.')}${more}`,
  );
}

export function alertsSection(count: number, dropped: number): string {
  return section(
    'alerts',
    'Alerts',
    `<div class="filters"><label>Level ≥ <select id="f-level">${LEVELS.map(
      (l) => `<option value="${l}">${l}</option>`,
    ).join(
      '',
    )}</select></label> <label>Search <input id="f-text" type="search" placeholder="rule, host, account, details"></label> <label>Host <select id="f-host"><option value="">all</option></select></label> <span id="f-count">${n(
      count - dropped,
    )} alerts</span></div><div id="alert-head" class="alert-row head"><span>time (UTC)</span><span>level</span><span>rule</span><span>host</span><span>account</span><span>details</span></div><div id="alert-view" tabindex="0"><div id="alert-space"></div></div><div id="alert-detail" hidden></div><noscript><p>The alert table needs JavaScript; the JSON lines output holds every alert.</p></noscript>${
      dropped > 0
        ? `<p>${n(dropped)} alerts past the report's limit are not in this table (JSON lines keeps them).</p>`
        : ''
    }`,
  );
}

export function coverageSection(facts: ReportFacts): string {
  const streams = facts.answers.coverage.map((s) => [
    esc(s.host ?? '—'),
    esc(s.channel ?? '—'),
    n(s.events),
    esc(s.first ?? '—'),
    esc(s.last ?? '—'),
    s.firstRecord === null ? '—' : `${n(s.firstRecord)}–${n(s.lastRecord ?? s.firstRecord)}`,
    s.missing > 0
      ? `<span class="warn">${n(s.missing)}</span> <small>${s.gaps.map(([a, b]) => `${a}…${b}`).join(', ')}</small>`
      : '0',
    n(s.outOfOrder),
    n(s.repeated),
    `<small>${s.files.map(esc).join('<br>')}</small>`,
  ]);
  const problems = facts.problems.map((p) => [`<code>${esc(p.where)}</code>`, esc(p.code), esc(p.message)]);
  const rules = facts.ruleProblems.map((p) => [`<code>${esc(p.file)}</code>`, esc(p.message)]);
  const unreachedRules = facts.unreached.reduce((sum, u) => sum + u.rules, 0);
  const unreached = facts.unreached
    .slice(0, 200)
    .map((u) => [`<code>${esc(u.logsource)}</code>`, n(u.rules), esc(u.titles.join('; '))]);
  const limits = facts.answers.limits.map((l) => `<li>${esc(l)}</li>`).join('');
  return section(
    'coverage',
    'Coverage',
    `<h3>Logs read</h3>${table(
      [
        'host',
        'channel',
        'events',
        'first',
        'last',
        'records',
        'missing',
        'out of order',
        'repeated',
        'files',
      ],
      streams,
      'No event was read.',
    )}<h3>Input problems (${n(facts.problemCount)})</h3>${table(['where', 'code', 'problem'], problems, 'None.')}${
      facts.problemCount > problems.length
        ? `<p>${n(facts.problemCount - problems.length)} more not listed.</p>`
        : ''
    }<h3>Rules that could not apply</h3><h4>Not loaded (${n(rules.length)})</h4>${table(['rule', 'problem'], rules, 'None.')}<h4>No event of their log source (${n(
      unreachedRules,
    )} Sigma rules)</h4>${table(['log source (product / category / service)', 'rules', 'for example'], unreached, 'Every Sigma rule saw events of its log source.')}${
      facts.excluded > 0 ? `<p>${n(facts.excluded)} alerts of rules left out with --exclude-rule.</p>` : ''
    }${limits ? `<h3>Bounds reached</h3><ul>${limits}</ul>` : ''}`,
  );
}

export function appendixSection(
  alerts: ReportAlertsBuilder,
  rules: RuleEntry[],
  sources: ReportFacts['ruleSources'],
): string {
  let budget = MAX_APPENDIX_CHARS;
  const entries = [...rules]
    .sort((a, b) => (alerts.byRule.get(b.id) ?? 0) - (alerts.byRule.get(a.id) ?? 0) || (a.id < b.id ? -1 : 1))
    .map((r) => {
      const source = sources.get(r.id);
      let text = source?.text ?? '';
      if (text.length > MAX_SOURCE_CHARS) text = `${text.slice(0, MAX_SOURCE_CHARS)}\n… (cut)`;
      if (text.length > budget) text = budget > 0 ? `${text.slice(0, budget)}\n… (cut)` : '';
      budget -= text.length;
      return `<details class="rule" id="rule-${esc(r.id)}"><summary>${level(r.level)} ${esc(r.title)} <small>${esc(
        r.kind,
      )} · ${n(alerts.byRule.get(r.id) ?? 0)} alerts · <code>${esc(r.id)}</code></small></summary><p>${esc(r.author)}${
        source ? ` · <code>${esc(source.file)}</code>` : ''
      }</p>${text ? `<pre>${esc(text)}</pre>` : '<p class="empty">(source not available)</p>'}</details>`;
    })
    .join('');
  return section(
    'appendix',
    'Rules and queries behind the results',
    entries || '<p class="empty">No rule raised an alert.</p>',
  );
}
