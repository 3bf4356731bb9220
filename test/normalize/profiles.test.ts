import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RawEvent } from '../../src/ingest/raw-event.js';
import { type EventView, normalize } from '../../src/normalize/normalize.js';
import { ALL_PROFILES } from '../../src/normalize/profiles/index.js';
import { DATA, EXAMPLES, FIXTURES, HAS_DATA, readAllItems } from '../helpers.js';

async function views(paths: string[]): Promise<EventView[]> {
  const { events } = await readAllItems(paths);
  return events.map((e) => normalize(e));
}

function raw(partial: Partial<RawEvent> & { data: Record<string, unknown> }): RawEvent {
  return {
    time: null,
    provider: null,
    channel: null,
    eventId: null,
    computer: null,
    recordId: null,
    origin: { file: 'test', format: 'json' },
    ...partial,
  };
}

/** Profiles no file of the shared corpus holds an event of; they are proven on our own fixtures. */
const FIXTURE_ONLY = new Set([
  'defender-IdentityLogonEvents',
  'defender-SigninLogs',
  'rdp-session-21',
  'rdp-session-23',
  'rdp-session-24',
  'sysmon-14',
  'sysmon-25',
  'security-4657',
  'security-4698',
  'security-4732',
  'security-4756',
  'defender-DeviceProcessEvents',
  'defender-DeviceLogonEvents',
  'defender-DeviceFileEvents',
  'defender-DeviceNetworkEvents',
  'defender-DeviceRegistryEvents',
  'defender-DeviceImageLoadEvents',
  'defender-DeviceEvents',
  'defender-AlertEvidence',
  'ecs-process-start',
]);

describe('every profile recognises real events', () => {
  it.runIf(HAS_DATA)(
    'the shared corpus covers every profile but the fixture-only ones, and fixtures cover those',
    async () => {
      const real = await views([
        path.join(DATA, 'security-datasets'),
        path.join(DATA, 'sigma/regression_data'),
      ]);
      const seenReal = new Set(real.map((v) => v.profile?.profile.id).filter(Boolean));
      const defenderRows = [
        {
          Timestamp: '2023-05-16T13:00:00Z',
          DeviceName: 'x',
          ActionType: 'ConnectionSuccess',
          RemoteIP: '198.51.100.14',
          RemotePort: 443,
          InitiatingProcessFolderPath: 'c:\\users\\public\\videos\\svchost.exe',
        },
        {
          Timestamp: '2023-05-16T13:00:00Z',
          DeviceName: 'x',
          ActionType: 'RegistryValueSet',
          RegistryKey: 'HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\PortProxy\\v4tov4\\tcp',
          RegistryValueName: '0.0.0.0/50100',
          RegistryValueData: '10.0.5.10/1433',
        },
        {
          Timestamp: '2023-05-16T13:00:00Z',
          DeviceName: 'x',
          ActionType: 'ImageLoaded',
          FileName: 'comsvcs.dll',
          FolderPath: 'C:\\Windows\\System32\\comsvcs.dll',
        },
        {
          Timestamp: '2023-05-16T13:00:00Z',
          DeviceName: 'x',
          ActionType: 'OpenProcessApiCall',
          FileName: 'lsass.exe',
        },
        {
          Timestamp: '2023-05-16T13:00:00Z',
          AlertId: 'da1',
          EntityType: 'File',
          SHA256: 'baeffeb5fdef2f42a752c65c2d2a52e84fb57efc906d981f89dd518c314e231c',
          DeviceName: 'x',
        },
      ];
      const { jsonToRawEvent } = await import('../../src/ingest/json-events.js');
      const fixtures = [
        ...(await views([FIXTURES, EXAMPLES])),
        ...defenderRows.map((r) => normalize(jsonToRawEvent(r, { file: 'inline' })!)),
      ];
      const seenFixtures = new Set(fixtures.map((v) => v.profile?.profile.id).filter(Boolean));
      for (const p of ALL_PROFILES) {
        if (FIXTURE_ONLY.has(p.id)) {
          expect(seenReal.has(p.id), `${p.id} now has real samples: drop it from FIXTURE_ONLY`).toBe(false);
          expect(seenFixtures.has(p.id), `${p.id} has no fixture`).toBe(true);
        } else expect(seenReal.has(p.id), `${p.id} has no real sample`).toBe(true);
      }
    },
  );
});

describe('Security 4688 quirks', () => {
  it.runIf(HAS_DATA)(
    'maps NewProcessName, ParentProcessName, hex ids, Subject user and MandatoryLabel to the taxonomy',
    async () => {
      const all = await views([
        path.join(
          DATA,
          'security-datasets/datasets/atomic/windows/credential_access/host/psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json',
        ),
      ]);
      const proc = all.filter((v) => v.profile?.profile.id === 'security-4688');
      expect(proc.length).toBeGreaterThan(0);
      for (const v of proc) {
        const d = v.raw.data;
        expect(v.sigma('Image')).toBe(d.NewProcessName);
        expect(v.sigma('image')).toBe(d.NewProcessName); // names are case-insensitive
        expect(v.sigma('ParentImage')).toBe(d.ParentProcessName);
        expect(v.sigma('ProcessId')).toBe(Number.parseInt(String(d.NewProcessId).slice(2), 16));
        expect(v.sigma('ParentProcessId')).toBe(Number.parseInt(String(d.ProcessId).slice(2), 16));
        expect(v.sigma('User')).toBe(`${d.SubjectDomainName}\\${d.SubjectUserName}`);
        expect(v.sigma('CommandLine')).toBe(d.CommandLine);
        // The raw names still answer for service: security rules.
        expect(v.field('ProcessId')).toBe(d.ProcessId);
        expect(v.logsources()).toEqual([
          { product: 'windows', service: 'security' },
          { product: 'windows', category: 'process_creation' },
        ]);
        expect(v.defenderRow()?.table).toBe('DeviceProcessEvents');
        expect(v.column('ProcessCommandLine')).toBe(d.CommandLine);
      }
      const labelled = proc.find((v) => v.raw.data.MandatoryLabel === 'S-1-16-12288');
      if (labelled) expect(labelled.sigma('IntegrityLevel')).toBe('High');
    },
  );

  it('maps mandatory-label SIDs to Sysmon integrity names', () => {
    const v = normalize(
      raw({
        provider: 'Microsoft-Windows-Security-Auditing',
        channel: 'Security',
        eventId: 4688,
        data: {
          MandatoryLabel: 'S-1-16-16384',
          NewProcessId: '0x10',
          SubjectUserName: 'bob',
          SubjectDomainName: '-',
        },
      }),
    );
    expect(v.sigma('IntegrityLevel')).toBe('System');
    expect(v.sigma('ProcessId')).toBe(16);
    expect(v.sigma('User')).toBe('bob'); // a '-' domain is no domain
  });
});

describe('Sysmon and Defender views of the same process', () => {
  it('gives Defender columns for a Sysmon 1 event', async () => {
    const all = await views([path.join(EXAMPLES, 'sysmon-fs02-ws07.jsonl')]);
    const frp = all.find(
      (v) => String(v.raw.data.Image).endsWith('Videos\\svchost.exe') && v.raw.eventId === 1,
    )!;
    expect(frp.profile?.profile.id).toBe('sysmon-1');
    const row = frp.defenderRow()!;
    expect(row.table).toBe('DeviceProcessEvents');
    expect(row.columns).toMatchObject({
      ActionType: 'ProcessCreated',
      FileName: 'svchost.exe',
      FolderPath: 'C:\\Users\\Public\\Videos\\svchost.exe',
      // Lower case, as Defender's columns hold hashes (Sysmon's Hashes field is upper case).
      SHA256: 'baeffeb5fdef2f42a752c65c2d2a52e84fb57efc906d981f89dd518c314e231c',
      AccountName: 'svc-fortinet',
      AccountDomain: 'CONTOSO',
      DeviceName: 'FS02.contoso.local',
      InitiatingProcessFileName: 'cmd.exe',
      Timestamp: '2023-05-16T13:40:31.000Z',
    });
  });

  it('gives Sigma taxonomy fields for a DeviceProcessEvents row', async () => {
    const all = await views([path.join(EXAMPLES, 'defender', 'DeviceProcessEvents.json')]);
    const wmic = all[0];
    expect(wmic.profile?.profile.id).toBe('defender-DeviceProcessEvents');
    expect(wmic.logsources()).toEqual([{ product: 'windows', category: 'process_creation' }]);
    expect(wmic.sigma('Image')).toBe('c:\\windows\\system32\\wbem\\wmic.exe');
    expect(wmic.sigma('CommandLine')).toContain('portproxy add v4tov4');
    expect(wmic.sigma('ParentImage')).toBe('c:\\windows\\system32\\cmd.exe');
    expect(wmic.sigma('User')).toBe('contoso\\svc-fortinet');
    expect(wmic.sigma('OriginalFileName')).toBe('wmic.exe');
    expect(wmic.sigma('Hashes')).toBe(
      'SHA256=1C4D1E3F2A5B6C7D8E9F00112233445566778899AABBCCDDEEFF001122334455',
    );
    expect(wmic.column('ProcessCommandLine')).toBe(wmic.raw.data.ProcessCommandLine);
  });

  it('maps a Security 4624 to DeviceLogonEvents with Defender logon type names', async () => {
    const all = await views([path.join(EXAMPLES, 'security-application-dc01.jsonl')]);
    const logon = all.find((v) => v.raw.data.IpAddress === '203.0.113.77')!;
    expect(logon.defenderRow()).toMatchObject({
      table: 'DeviceLogonEvents',
      columns: {
        ActionType: 'LogonSuccess',
        AccountName: 'svc-fortinet',
        LogonType: 'Network',
        RemoteIP: '203.0.113.77',
      },
    });
    const defender = await views([path.join(EXAMPLES, 'defender', 'DeviceLogonEvents.json')]);
    expect(defender[1].sigma('LogonType')).toBe(10);
    expect(defender[1].sigma('IpAddress')).toBe('203.0.113.77');
  });

  it('finds the process_creation taxonomy in ECS documents, and nothing in other ECS events', async () => {
    const [proc, net] = await views([path.join(FIXTURES, 'ecs-process.ndjson')]);
    expect(proc.profile?.profile.id).toBe('ecs-process-start');
    expect(proc.sigma('ParentImage')).toBe('C:\\Windows\\System32\\cmd.exe');
    expect(proc.sigma('User')).toBe('CONTOSO\\svc-fortinet');
    expect(proc.column('FileName')).toBe('WMIC.exe');
    expect(net.profile).toBeNull();
  });

  it('recognises Winlogbeat Sysmon events as Sysmon', async () => {
    const [sysmon, logon] = await views([path.join(FIXTURES, 'winlogbeat.ndjson')]);
    expect(sysmon.profile?.profile.id).toBe('sysmon-1');
    expect(sysmon.sigma('OriginalFileName')).toBe('wmic.exe');
    expect(logon.profile?.profile.id).toBe('security-4624');
  });
});

describe('provider gating and conditional logsources', () => {
  it('never gives an EventID from another provider the meaning of Sysmon', () => {
    const other = normalize(
      raw({
        provider: 'Microsoft-Windows-Kernel-General',
        channel: 'System',
        eventId: 1,
        data: { Image: 'x' },
      }),
    );
    expect(other.profile).toBeNull();
    const esentLike = normalize(
      raw({ provider: 'MsiInstaller', channel: 'Application', eventId: 325, data: {} }),
    );
    expect(esentLike.profile).toBeNull();
  });

  it('keeps recognising Sysmon when events were forwarded (WEF ForwardedEvents)', () => {
    const v = normalize(
      raw({ provider: 'Microsoft-Windows-Sysmon', channel: 'ForwardedEvents', eventId: 1, data: {} }),
    );
    expect(v.profile?.profile.id).toBe('sysmon-1');
  });

  it('falls back to the channel when the source names no provider', () => {
    const v = normalize(raw({ channel: 'Security', eventId: 4688, data: {} }));
    expect(v.profile?.profile.id).toBe('security-4688');
  });

  it('serves registry_add for CreateKey and registry_delete for DeleteKey only', () => {
    const sysmon = {
      provider: 'Microsoft-Windows-Sysmon',
      channel: 'Microsoft-Windows-Sysmon/Operational',
      eventId: 12,
    };
    const add = normalize(raw({ ...sysmon, data: { EventType: 'CreateKey' } }));
    const del = normalize(raw({ ...sysmon, data: { EventType: 'DeleteKey' } }));
    expect(add.logsources().map((l) => l.category ?? l.service)).toEqual([
      'sysmon',
      'registry_event',
      'registry_add',
    ]);
    expect(del.logsources().map((l) => l.category ?? l.service)).toEqual([
      'sysmon',
      'registry_event',
      'registry_delete',
    ]);
  });
});
