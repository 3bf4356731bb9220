/**
 * Bursts of discovery: distinct discovery commands of one session (else host and account), no
 * more than 10 minutes apart, four or more make one medium alert; fewer, or spread out, make none.
 * On the scenario: svc-fortinet's burst on FS02, not jdoe's one ipconfig; the signals stay out of
 * the table and in JSON lines.
 */
import { describe, expect, it } from 'vitest';
import { BURST_RULE_ID, BurstFinder } from '../../src/correlate/bursts.js';
import type { Alert } from '../../src/detect/alert.js';
import { runCli } from '../helpers.js';

const T0 = Date.UTC(2023, 4, 16, 13, 0, 0);
let line = 0;
function signal(minutes: number, command: string, over: Partial<Alert> = {}): Alert {
  line++;
  return {
    time: new Date(T0 + minutes * 60_000).toISOString(),
    rule: {
      id: 'signal',
      title: 'Discovery Command (Signal)',
      level: 'informational',
      kind: 'sigma',
      author: 'lotl',
      techniques: ['T1082'],
      tactics: ['discovery'],
    },
    host: 'FS02.contoso.local',
    user: 'CONTOSO\\svc',
    source: { file: 'sysmon.jsonl', format: 'evtx-json', line, channel: null, eventId: 1 },
    event: { CommandLine: command },
    ...over,
  };
}

describe('bursts of discovery', () => {
  it('four distinct commands within minutes make one burst; repeats, gaps and other actors do not', () => {
    const finder = new BurstFinder();
    for (const [m, c] of [
      [0, 'whoami /all'],
      [1, 'WHOAMI  /all'], // the same command: case and spacing do not make it new
      [2, 'ipconfig /all'],
      [4, 'tasklist /v'],
      [9, 'net group "Domain Admins" /domain'],
    ] as const)
      finder.add(signal(m, c));
    // Another account on the same host, and the same account on another host: their own groups.
    finder.add(signal(3, 'systeminfo', { user: 'CONTOSO\\bob' }));
    finder.add(signal(3, 'systeminfo', { host: 'WS07.contoso.local' }));
    // An hour later: a new run, three commands only.
    for (const [m, c] of [
      [70, 'netstat -ano'],
      [71, 'arp -a'],
      [72, 'route print'],
    ] as const)
      finder.add(signal(m, c));
    // Not a signal: a high alert and a signal of another tactic.
    finder.add(
      signal(5, 'rundll32 comsvcs.dll MiniDump', { rule: { ...signal(0, '').rule, level: 'high' } }),
    );
    finder.add(
      signal(6, 'reg save hklm\\sam', { rule: { ...signal(0, '').rule, tactics: ['credential-access'] } }),
    );
    const bursts = finder.bursts();
    expect(bursts).toHaveLength(1);
    expect(bursts[0]).toMatchObject({
      time: new Date(T0).toISOString(),
      rule: { id: BURST_RULE_ID, level: 'medium', kind: 'correlation', tactics: ['discovery'] },
      host: 'FS02.contoso.local',
      user: 'CONTOSO\\svc',
      event: {
        summary: '4 distinct discovery commands in 9 min',
        signals: 5,
        commands: ['whoami /all', 'ipconfig /all', 'tasklist /v', 'net group "domain admins" /domain'],
      },
    });
  });

  it('a gap over the window splits a run', () => {
    const finder = new BurstFinder({ gapMs: 60_000, minCommands: 2 });
    finder.add(signal(0, 'a'));
    finder.add(signal(2, 'b'));
    expect(finder.bursts()).toEqual([]);
  });

  it('the scenario: one burst, svc-fortinet on FS02; the signals are in JSON lines, not in the table', async () => {
    const jsonl = await runCli(['hunt', '--no-progress', '--format', 'jsonl', 'examples/']);
    const alerts = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Alert);
    const bursts = alerts.filter((a) => a.rule.id === BURST_RULE_ID);
    expect(bursts.map((b) => [b.host, b.user, b.event.session, b.event.commands])).toEqual([
      [
        'FS02.contoso.local',
        'CONTOSO\\svc-fortinet',
        '0x5a1e7',
        [
          'wmic volume list brief',
          'wmic path win32_logicaldisk get caption,filesystem,freespace,size,volumename',
          'tasklist /v',
          'netsh interface portproxy show all',
          'ping -n 1 10.0.5.10',
          'wmic computersystem get manufacturer,model',
        ],
      ],
    ]);
    const signals = alerts.filter((a) => a.rule.level === 'informational');
    expect(signals.length).toBeGreaterThan(5);
    expect(signals.some((a) => a.user === 'CONTOSO\\jdoe')).toBe(true); // his ipconfig: a signal, no burst
    const table = await runCli(['hunt', '--no-progress', 'examples/']);
    expect(table.stdout).not.toContain('(Signal)');
    expect(table.stdout).toContain('Burst Of Discovery Commands');
    expect(table.stderr).toContain(`${signals.length} informational signals not in the table`);
    const all = await runCli(['hunt', '--no-progress', '--min-level', 'informational', 'examples/']);
    expect(all.stdout).toContain('Discovery Command (Signal)');
  });
});
