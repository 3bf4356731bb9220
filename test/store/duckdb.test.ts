/**
 * The DuckDB store: normalized events become rows of the Defender and Sentinel tables, from every
 * source that carries them (the bundled scenario has Sysmon, Security, Defender JSON and a CSV).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readAll } from '../../src/hunt/read-loop.js';
import { EventStore } from '../../src/store/duckdb.js';

const store = await EventStore.open();
afterAll(() => store.close());

describe('EventStore', () => {
  it('loads every source of examples/ into the tables KQL names', async () => {
    let events = 0;
    await readAll(
      ['examples/'],
      {
        event(view) {
          events++;
          store.add(view);
        },
        problem() {},
      },
      null,
    );
    expect(events).toBe(297);
    const counts = await store.finish();
    // Sysmon 1, Security 4688, Defender's DeviceProcessEvents rows and the portal CSV.
    expect(counts.DeviceProcessEvents).toBeGreaterThan(25);
    expect(counts.DeviceLogonEvents).toBeGreaterThan(0);
    expect(counts.DeviceFileEvents).toBeGreaterThan(0);
    expect(counts.DeviceNetworkEvents).toBeGreaterThan(0);
    // The Security logs: 4624, 4634, 4688 and 1102 events (the DC and the week of sign-ins).
    expect(counts.SecurityEvent).toBe(255);
    expect(counts.AlertEvidence).toBe(0);

    // A Security 4688 is in both DeviceProcessEvents and SecurityEvent.
    const ifm = await store.sql(
      `SELECT DeviceName, AccountName, FileName, Timestamp, TimeGenerated FROM DeviceProcessEvents
       WHERE ProcessCommandLine ILIKE '%ntdsutil%' AND ProcessCommandLine ILIKE '%create full%' ORDER BY Timestamp`,
    );
    expect(ifm.map((r) => [r.DeviceName, r.FileName])).toEqual([
      ['DC01.contoso.local', 'ntdsutil.exe'],
      ['DC01.contoso.local', 'WMIC.exe'],
    ]);
    expect(ifm[0].Timestamp).toBe(ifm[0].TimeGenerated);
    const sec = await store.sql(
      `SELECT EventID, Computer, Account, NewProcessName FROM SecurityEvent WHERE EventID = 4688 AND CommandLine ILIKE '%ifm%' ORDER BY TimeGenerated`,
    );
    expect(sec).toEqual([
      {
        EventID: 4688,
        Computer: 'DC01.contoso.local',
        Account: 'CONTOSO\\svc-fortinet',
        NewProcessName: 'C:\\Windows\\System32\\ntdsutil.exe',
      },
      {
        EventID: 4688,
        Computer: 'DC01.contoso.local',
        Account: 'CONTOSO\\svc-fortinet',
        NewProcessName: 'C:\\Windows\\System32\\wbem\\WMIC.exe',
      },
    ]);
    // Sysmon 1 events are DeviceProcessEvents rows with Defender's column names.
    const lsass = await store.sql(
      `SELECT count(*) AS n FROM DeviceProcessEvents WHERE ProcessCommandLine ILIKE '%-E %' AND FolderPath ILIKE '%powershell.exe'`,
    );
    expect(Number(lsass[0].n)).toBeGreaterThan(0);
  });

  it('past onDiskAbove, the tables live in a database file and answer the same', async () => {
    const onDisk = await EventStore.open(undefined, { onDiskAbove: 0, limits: { memory: '64MB' } });
    try {
      await readAll(['examples/'], { event: (view) => onDisk.add(view), problem() {} }, null);
      const counts = await onDisk.finish();
      expect(counts.SecurityEvent).toBe(255);
      const query =
        'SELECT Computer, Account, CommandLine FROM SecurityEvent WHERE EventID = 4688 ORDER BY ALL';
      const rows = await onDisk.sql(query);
      expect(rows.length).toBeGreaterThan(20);
      expect(rows).toEqual(await store.sql(query));
    } finally {
      onDisk.close();
    }
  });
});
