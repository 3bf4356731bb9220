/**
 * Correlation and filter rules, as the specification describes them, on small streams of Security
 * events. Base rules are written inline; `logon(...)` makes a 4625 failed logon.
 */
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { SigmaEngine } from '../../src/detect/sigma/engine.js';
import { loadRuleText } from '../../src/detect/sigma/load.js';
import type { RawEvent } from '../../src/ingest/raw-event.js';
import { normalize } from '../../src/normalize/normalize.js';

const T0 = Date.UTC(2023, 4, 16, 13, 0, 0);
function logon(
  sec: number,
  user: string,
  ip: string,
  eventId = 4625,
  extra: Record<string, unknown> = {},
): RawEvent {
  return {
    time: T0 + sec * 1000,
    provider: 'Microsoft-Windows-Security-Auditing',
    channel: 'Security',
    eventId,
    computer: 'DC01',
    recordId: sec,
    origin: { file: 't', format: 'json' },
    data: { EventID: eventId, TargetUserName: user, IpAddress: ip, ...extra },
  };
}

const BASE = `title: Failed logon
id: failed-logon
name: failed_logon
logsource:
  product: windows
  service: security
detection:
  sel:
    EventID: 4625
  condition: sel
level: low
---
title: Successful logon
id: good-logon
name: good_logon
logsource:
  product: windows
  service: security
detection:
  sel:
    EventID: 4624
  condition: sel
level: low
`;

function run(correlations: string, events: RawEvent[]): Alert[] {
  const r = loadRuleText(`${BASE}---\n${correlations}`, 'corr.yml');
  const errors = r.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0)
    throw new Error(errors.map((p) => `${p.line}:${p.col} ${p.code} ${p.message}`).join('; '));
  const engine = new SigmaEngine(r.rules, { correlations: r.correlations });
  const out: Alert[] = [];
  for (const e of events) out.push(...engine.evaluate(normalize(e)));
  out.push(...engine.flush());
  return out;
}

const corr = (body: string, extra = '') => `title: C\nid: c-1\nlevel: high\n${extra}correlation:\n${body}`;

describe('correlation rules', () => {
  it('event_count: per group-by value, within the timespan (sliding); fires once and starts a new window', () => {
    const c = corr(
      '  type: event_count\n  rules: [failed_logon]\n  group-by: [TargetUserName]\n  timespan: 60s\n  condition:\n    gte: 3\n',
    );
    const events = [
      logon(0, 'bob', '1.1.1.1'),
      logon(10, 'bob', '1.1.1.1'),
      logon(20, 'alice', '1.1.1.1'),
      logon(30, 'bob', '1.1.1.1'),
      logon(40, 'bob', '1.1.1.1'),
    ];
    const alerts = run(c, events);
    const fired = alerts.filter((a) => a.rule.kind === 'correlation');
    expect(fired).toHaveLength(1);
    expect(fired[0].event).toMatchObject({
      correlation: 'event_count',
      group: { TargetUserName: 'bob' },
      measure: 3,
      signals: 3,
    });
    expect(fired[0].time).toBe(new Date(T0 + 30_000).toISOString());
    // generate defaults to false: the base rule's own alerts are not written.
    expect(alerts.filter((a) => a.rule.id === 'failed-logon')).toHaveLength(0);
    // Outside the timespan, the old signals no longer count.
    expect(
      run(c, [logon(0, 'bob', 'x'), logon(50, 'bob', 'x'), logon(120, 'bob', 'x')]).filter(
        (a) => a.rule.kind === 'correlation',
      ),
    ).toHaveLength(0);
  });

  it('value_count: distinct values of a field; a range condition (gt and lte)', () => {
    const c = corr(
      '  type: value_count\n  rules: [failed_logon]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition:\n    field: TargetUserName\n    gt: 2\n    lte: 3\n',
    );
    const spray = ['u1', 'u2', 'u3', 'u3'].map((u, i) => logon(i, u, '203.0.113.77'));
    const fired = run(c, spray).filter((a) => a.rule.kind === 'correlation');
    expect(fired).toHaveLength(1);
    expect(fired[0].event).toMatchObject({ group: { IpAddress: '203.0.113.77' }, measure: 3 });
  });

  it('temporal (any order) and temporal_ordered (listed order), with aliases for group-by', () => {
    const aliases =
      '  aliases:\n    account:\n      failed_logon: TargetUserName\n      good_logon: TargetUserName\n';
    const temporal = corr(
      `  type: temporal\n  rules: [failed_logon, good_logon]\n  group-by: [account]\n  timespan: 1m\n${aliases}`,
    );
    const ordered = corr(
      `  type: temporal_ordered\n  rules: [failed_logon, good_logon]\n  group-by: [account]\n  timespan: 1m\n${aliases}`,
    );
    const failThenSucceed = [logon(0, 'svc', 'x'), logon(5, 'svc', 'x', 4624)];
    const succeedThenFail = [logon(0, 'svc', 'x', 4624), logon(5, 'svc', 'x')];
    const fired = (c: string, e: RawEvent[]) => run(c, e).filter((a) => a.rule.kind === 'correlation').length;
    expect(fired(temporal, failThenSucceed)).toBe(1);
    expect(fired(temporal, succeedThenFail)).toBe(1);
    expect(fired(ordered, failThenSucceed)).toBe(1);
    expect(fired(ordered, succeedThenFail)).toBe(0);
    expect(fired(temporal, [logon(0, 'a', 'x'), logon(5, 'b', 'x', 4624)])).toBe(0);
  });

  it('value_sum, value_avg and value_percentile over a numeric field', () => {
    const ev = (sec: number, n: number) => logon(sec, 'bob', 'x', 4625, { Count: n });
    const events = [ev(0, 10), ev(1, 20), ev(2, 30), ev(3, 40)];
    const metric = (type: string, cond: string, extra = '') =>
      run(
        corr(
          `  type: ${type}\n  rules: [failed_logon]\n  group-by: [TargetUserName]\n  timespan: 1m\n  condition:\n    field: Count\n${extra}    ${cond}\n`,
        ),
        events,
      ).filter((a) => a.rule.kind === 'correlation');
    expect(metric('value_sum', 'gte: 60')[0].event.measure).toBe(60);
    expect(metric('value_avg', 'gte: 25')[0].event.measure).toBe(25);
    expect(metric('value_percentile', 'gte: 30', '    percentile: 75\n')[0].event.measure).toBe(30);
  });

  it('a condition bounded from above (lt) is judged when the window closes or the input ends', () => {
    const c = corr(
      '  type: event_count\n  rules: [failed_logon]\n  group-by: [TargetUserName]\n  timespan: 1m\n  condition:\n    lt: 2\n',
    );
    const fired = run(c, [logon(0, 'once', 'x'), logon(0, 'twice', 'x'), logon(1, 'twice', 'x')]).filter(
      (a) => a.rule.kind === 'correlation',
    );
    expect(fired.map((a) => (a.event.group as Record<string, string>).TargetUserName)).toEqual(['once']);
  });

  it('chaining: a correlation of a correlation; generate keeps the base alerts', () => {
    const chain = `${corr('  type: event_count\n  rules: [failed_logon]\n  group-by: [TargetUserName]\n  timespan: 1m\n  condition:\n    gte: 2\n  generate: true\n', 'name: burst\n')}---\ntitle: Bursts then success\nid: c-2\nlevel: critical\ncorrelation:\n  type: temporal_ordered\n  rules: [burst, good_logon]\n  group-by: [TargetUserName]\n  timespan: 5m\n`;
    const alerts = run(chain, [logon(0, 'svc', 'x'), logon(1, 'svc', 'x'), logon(30, 'svc', 'x', 4624)]);
    expect(alerts.filter((a) => a.rule.id === 'c-1')).toHaveLength(1);
    expect(alerts.filter((a) => a.rule.id === 'c-2')).toHaveLength(1);
    expect(alerts.filter((a) => a.rule.id === 'failed-logon')).toHaveLength(2); // generate: true
  });

  it('reports bad correlations with their location', () => {
    const bad = (body: string) =>
      loadRuleText(`${BASE}---\n${corr(body)}`, 'c.yml').problems.filter((p) => p.severity === 'error');
    expect(
      bad('  type: event_sum\n  rules: [failed_logon]\n  timespan: 1m\n  condition:\n    gte: 1\n')[0],
    ).toMatchObject({ code: 'SIGMA_BAD_CORRELATION', line: 29 }); // the `type:` line
    expect(
      bad('  type: event_count\n  rules: [nope]\n  timespan: 1m\n  condition:\n    gte: 1\n')[0],
    ).toMatchObject({ code: 'SIGMA_UNKNOWN_RULE' });
    expect(
      bad('  type: event_count\n  rules: [failed_logon]\n  timespan: soon\n  condition:\n    gte: 1\n')[0]
        .message,
    ).toContain('timespan');
    expect(
      bad('  type: value_count\n  rules: [failed_logon]\n  timespan: 1m\n  condition:\n    gte: 1\n')[0]
        .message,
    ).toContain('condition.field');
  });
});

describe('filter rules', () => {
  const rule = `title: Failed logon\nid: failed-logon\nname: failed_logon\nlogsource:\n  product: windows\n  service: security\ndetection:\n  sel:\n    EventID: 4625\n  condition: sel\n`;
  const engineWith = (filter: string) => {
    const r = loadRuleText(`${rule}---\n${filter}`, 'f.yml');
    expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
    return new SigmaEngine(r.rules);
  };
  const hits = (e: SigmaEngine, ev: RawEvent) => e.evaluate(normalize(ev)).length;

  it('ANDs the filter condition into the rules it names, by id or name', () => {
    const e = engineWith(
      "title: Not the scanner\nlogsource:\n  product: windows\nfilter:\n  rules: [failed_logon]\n  scanner:\n    IpAddress: '10.0.0.5'\n  condition: not scanner\n",
    );
    expect(hits(e, logon(0, 'bob', '10.0.0.5'))).toBe(0);
    expect(hits(e, logon(0, 'bob', '10.0.0.6'))).toBe(1);
  });

  it('applies to every rule when it names none, only where its logsource contains the rule’s', () => {
    const any = engineWith(
      "title: f\nlogsource:\n  product: windows\nfilter:\n  sel:\n    TargetUserName: 'svc-backup'\n  condition: not sel\n",
    );
    expect(hits(any, logon(0, 'svc-backup', 'x'))).toBe(0);
    const other = engineWith(
      "title: f\nlogsource:\n  category: process_creation\nfilter:\n  sel:\n    TargetUserName: 'svc-backup'\n  condition: not sel\n",
    );
    expect(hits(other, logon(0, 'svc-backup', 'x'))).toBe(1);
  });
});
