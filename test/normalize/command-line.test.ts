/**
 * Derived command-line fields: the normalized form evens out what cmd.exe and PowerShell accept
 * as the same command, and the decoded form opens PowerShell's -EncodedCommand.
 */
import { describe, expect, it } from 'vitest';
import type { RawEvent } from '../../src/ingest/raw-event.js';
import { decodeEncodedCommand, normalizeCommandLine } from '../../src/normalize/command-line.js';
import { normalize } from '../../src/normalize/normalize.js';

const SCRIPT =
  'Get-Process lsass | ForEach-Object { rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump $_.Id C:\\Windows\\Temp\\m.dmp full }';
const B64 = Buffer.from(SCRIPT, 'utf16le').toString('base64');

describe('normalizeCommandLine', () => {
  it('drops carets and double quotes, writes switches with -, and collapses spacing', () => {
    expect(normalizeCommandLine('c^m^d /c "n""tdsutil"  "ac i ntds" "ifm" "create full c:\\temp" q q')).toBe(
      'cmd -c ntdsutil ac i ntds ifm create full c:\\temp q q',
    );
    expect(normalizeCommandLine('netsh\tinterface  portproxy add v4tov4 listenport=9999')).toBe(
      'netsh interface portproxy add v4tov4 listenport=9999',
    );
    expect(normalizeCommandLine('wmic /node:10.0.0.5 process call create "cmd.exe /c whoami"')).toBe(
      'wmic -node:10.0.0.5 process call create cmd.exe -c whoami',
    );
    expect(normalizeCommandLine('procdump \u2013ma lsass.exe')).toBe('procdump -ma lsass.exe');
    // Paths keep their slashes: only a slash starting a word is a switch.
    expect(normalizeCommandLine('copy c:/a/b.txt d:/c')).toBe('copy c:/a/b.txt d:/c');
  });
});

describe('decodeEncodedCommand', () => {
  it('decodes -EncodedCommand and every abbreviation PowerShell accepts', () => {
    for (const flag of ['-e', '-E', '-ec', '-en', '-enc', '-EncodedCommand', '/enc', '-encodedc'])
      expect(decodeEncodedCommand(`powershell.exe -nop -w hidden ${flag} ${B64}`), flag).toBe(SCRIPT);
    expect(decodeEncodedCommand(`powershell -EncodedCommand "${B64}"`)).toBe(SCRIPT);
    expect(decodeEncodedCommand(`powershell -enc:${B64}`)).toBe(SCRIPT);
  });

  it('leaves commands without an encoded script alone', () => {
    expect(decodeEncodedCommand('powershell -ExecutionPolicy Bypass -File x.ps1')).toBeUndefined();
    // Base64 of UTF-8 text, not UTF-16LE: not a PowerShell encoded command.
    expect(
      decodeEncodedCommand(`cmd /c echo -e ${Buffer.from('hello world, hello!').toString('base64')}`),
    ).toBeUndefined();
    expect(decodeEncodedCommand('tool -e abc')).toBeUndefined();
  });

  it('is offered as CommandLineDecoded and CommandLineNormalized on every process-creation source', () => {
    const cmd = `powershell.exe -e ${B64}`;
    const events: RawEvent[] = [
      {
        provider: 'Microsoft-Windows-Sysmon',
        channel: 'Microsoft-Windows-Sysmon/Operational',
        eventId: 1,
        data: { CommandLine: cmd },
      },
      {
        provider: 'Microsoft-Windows-Security-Auditing',
        channel: 'Security',
        eventId: 4688,
        data: { CommandLine: cmd },
      },
      {
        provider: null,
        channel: 'DeviceProcessEvents',
        eventId: null,
        data: { ProcessCommandLine: cmd, DeviceName: 'h', Timestamp: '2023-05-16T00:00:00Z' },
      },
    ].map(
      (e) =>
        ({ time: 0, computer: 'h', recordId: 1, origin: { file: 't', format: 'json' }, ...e }) as RawEvent,
    );
    for (const e of events) {
      const view = normalize(e);
      expect(view.sigma('CommandLineDecoded'), String(e.channel)).toBe(SCRIPT);
      expect(view.sigma('CommandLineNormalized'), String(e.channel)).toBe(`powershell.exe -e ${B64}`);
    }
  });
});
