/** `--timezone`: the table's times in a zone with its offset (daylight saving included); bad zones refused. */
import { describe, expect, it } from 'vitest';
import { timeFormatter } from '../../src/report/time-zone.js';
import { runCli } from '../helpers.js';

describe('time zones', () => {
  it('shows an instant in a zone with the offset of that day', () => {
    const ny = timeFormatter('America/New_York')!;
    expect(ny('2023-05-16T13:20:01.000Z')).toBe('2023-05-16 09:20:01.000 -04:00');
    expect(ny('2023-01-16T13:20:01.250Z')).toBe('2023-01-16 08:20:01.250 -05:00');
    expect(timeFormatter('Asia/Kolkata')!('2023-05-16T23:59:59.999Z')).toBe('2023-05-17 05:29:59.999 +05:30');
    expect(timeFormatter('UTC')!('2023-05-16T00:00:00.000Z')).toBe('2023-05-16 00:00:00.000 +00:00');
    expect(timeFormatter('Mars/Olympus')).toBeNull();
  });

  it('lotl hunt --timezone changes the table only; a zone it does not know is a usage error', async () => {
    const table = await runCli(['hunt', '--no-progress', '--timezone', 'Asia/Tokyo', 'examples/']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('2023-05-16 22:20:01.000 +09:00');
    const jsonl = await runCli([
      'hunt',
      '--no-progress',
      '--timezone',
      'Asia/Tokyo',
      '--format',
      'jsonl',
      'examples/',
    ]);
    expect(jsonl.stdout).toContain('"time":"2023-05-16T13:20:01.000Z"');
    const bad = await runCli(['hunt', '--no-progress', '--timezone', 'Mars/Olympus', 'examples/']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not a time zone this system knows');
  });
});
