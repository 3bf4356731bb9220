import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IndicatorSet } from '../../src/detect/ioc/indicator.js';
import { matchEvent } from '../../src/detect/ioc/match.js';
import { normalize } from '../../src/normalize/normalize.js';
import { DATA, FIXTURES, HAS_DATA, readAllItems, runCli } from '../helpers.js';

describe('ioc sweep', () => {
  it('finds the planted FRP hash and the network indicators in examples/', async () => {
    const { code, stdout } = await runCli([
      'ioc',
      'sweep',
      '--format',
      'jsonl',
      '--iocs',
      path.join(FIXTURES, 'iocs', 'examples-scenario.txt'),
      'examples/',
    ]);
    expect(code).toBe(0);
    const alerts = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const found = alerts.map((a) => `${a.match.indicator.value} ${a.match.field} ${a.source.channel}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'baeffeb5fdef2f42a752c65c2d2a52e84fb57efc906d981f89dd518c314e231c Hashes Microsoft-Windows-Sysmon/Operational',
        'baeffeb5fdef2f42a752c65c2d2a52e84fb57efc906d981f89dd518c314e231c SHA256 DeviceFileEvents',
        '198.51.100.14 DestinationIp Microsoft-Windows-Sysmon/Operational',
        '203.0.113.77 IpAddress Security',
        '203.0.113.77 RemoteIP DeviceLogonEvents',
        'cdn-contoso.top QueryName Microsoft-Windows-Sysmon/Operational',
        'cdn-contoso.top DestinationHostname Microsoft-Windows-Sysmon/Operational',
      ]),
    );
    for (const a of alerts) {
      expect(a.rule.kind).toBe('ioc');
      expect(a.rule.author).toBe('examples-scenario.txt');
      expect(a.source.file).toBeTruthy();
    }
    // Deterministic order: time, then rule id, then file and record.
    const times = alerts.map((a) => a.time);
    expect([...times].sort()).toEqual(times);
  });

  it('hunt --iocs runs the same sweep; --fail-on turns findings into exit 1; no detections is a usage error', async () => {
    const ioc = path.join(FIXTURES, 'iocs', 'examples-scenario.txt');
    const hunt = await runCli([
      'hunt',
      '--no-builtin',
      '--iocs',
      ioc,
      '--format',
      'csv',
      '--fail-on',
      'high',
      'examples/',
    ]);
    expect(hunt.code).toBe(1);
    expect(hunt.stdout.split('\n')[0]).toBe(
      'time,level,kind,rule_id,rule_title,author,host,user,techniques,file,record,channel,event_id,match,defender',
    );
    const none = await runCli(['hunt', '--no-builtin', 'examples/']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no detections selected');
  });

  it.runIf(HAS_DATA)('finds every hash taken from the Sysmon events of the shared corpus', async () => {
    // Build an indicator list from hashes that really occur in Sysmon events, then sweep for them.
    const dir = path.join(DATA, 'evtx-attack-samples', 'Credential Access');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.evtx') && statSync(path.join(dir, f)).size < 2_000_000)
      .map((f) => path.join(dir, f));
    const { events } = await readAllItems(files);
    const wanted = new Map<string, string>();
    for (const e of events) {
      const h = e.data.Hashes;
      if (typeof h !== 'string') continue;
      const sha = /SHA256=([0-9A-F]{64})/i.exec(h)?.[1] ?? /MD5=([0-9A-F]{32})/i.exec(h)?.[1];
      if (sha && !wanted.has(sha.toLowerCase())) wanted.set(sha.toLowerCase(), e.origin.file);
      if (wanted.size >= 40) break;
    }
    expect(wanted.size).toBeGreaterThanOrEqual(10);
    const set = new IndicatorSet();
    for (const v of wanted.keys())
      set.add({ type: v.length === 64 ? 'sha256' : 'md5', value: v, source: 'test' });
    const found = new Set<string>();
    for (const e of events) for (const m of matchEvent(normalize(e), set)) found.add(m.indicator.value);
    expect([...wanted.keys()].filter((v) => !found.has(v))).toEqual([]);
  });

  it('matches CIDR ranges, subdomains, URLs, IPv4-mapped addresses and file names, and never an IMPHASH', () => {
    const set = new IndicatorSet();
    set.add({ type: 'cidr', value: '198.51.100.0/24', source: 't' });
    set.add({ type: 'domain', value: 'cdn-contoso.top', source: 't' });
    set.add({ type: 'url', value: 'http://cdn-contoso.top/a', source: 't' });
    set.add({ type: 'filename', value: 'frpc.exe', source: 't' });
    set.add({ type: 'md5', value: '00000000000000000000000000000001', source: 't' });
    const view = normalize({
      time: null,
      provider: 'x',
      channel: 'y',
      eventId: null,
      computer: null,
      recordId: null,
      origin: { file: 'f', format: 'json' },
      data: {
        RemoteIP: '::ffff:198.51.100.7',
        QueryName: 'a.b.cdn-contoso.top',
        RemoteUrl: 'http://cdn-contoso.top/a',
        Image: 'C:\\Users\\Public\\FRPC.EXE',
        Hashes: 'SHA1=AA,IMPHASH=00000000000000000000000000000001',
      },
    });
    const m = matchEvent(view, set).map((x) => `${x.indicator.type}:${x.field}`);
    // One match per indicator per event: the domain is reported once, on the first field that holds it.
    expect(m.sort()).toEqual(['cidr:RemoteIP', 'domain:QueryName', 'filename:Image', 'url:RemoteUrl']);
  });
});
