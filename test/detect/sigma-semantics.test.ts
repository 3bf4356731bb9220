/**
 * Sigma semantics, case by case from the specification (docs/sigma.md lists them): each rule is
 * written inline and run on small events. `ev()` makes a Sysmon 1 event (process_creation, Sigma
 * names) unless told otherwise.
 */
import { describe, expect, it } from 'vitest';
import { SigmaEngine } from '../../src/detect/sigma/engine.js';
import { loadRuleText } from '../../src/detect/sigma/load.js';
import type { RawEvent } from '../../src/ingest/raw-event.js';
import { normalize } from '../../src/normalize/normalize.js';

function ev(data: Record<string, unknown>, header: Partial<RawEvent> = {}): RawEvent {
  return {
    time: Date.UTC(2023, 4, 16, 13, 20, 2),
    provider: 'Microsoft-Windows-Sysmon',
    channel: 'Microsoft-Windows-Sysmon/Operational',
    eventId: 1,
    computer: 'FS02',
    recordId: 1,
    origin: { file: 'test', format: 'json' },
    data,
    ...header,
  };
}

function rule(
  detection: string,
  logsource = 'category: process_creation\n  product: windows',
  extra = '',
): SigmaEngine {
  const text = `title: test\nid: t-1\nlevel: high\nauthor: lotl tests\n${extra}logsource:\n  ${logsource}\ndetection:\n${detection}\n`;
  const r = loadRuleText(text, 'test.yml');
  const errors = r.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0)
    throw new Error(errors.map((p) => `${p.line}:${p.col} ${p.code} ${p.message}`).join('; '));
  return new SigmaEngine(r.rules);
}

const hits = (engine: SigmaEngine, e: RawEvent) => engine.evaluate(normalize(e)).length > 0;

describe('values and wildcards', () => {
  it('a plain string is a whole-value, case-insensitive match; * and ? are wildcards; escapes are literal', () => {
    // In YAML single quotes: \\ is one literal backslash for Sigma, \* a literal star, * and ? wildcards.
    const r = rule(
      "  sel:\n    Image: 'C:\\\\Windows\\\\*\\\\whoami.exe'\n    CommandLine: 'who?mi \\* /all'\n  condition: sel",
    );
    expect(hits(r, ev({ Image: 'c:\\windows\\system32\\WHOAMI.EXE', CommandLine: 'whoami * /all' }))).toBe(
      true,
    );
    expect(hits(r, ev({ Image: 'c:\\windows\\system32\\whoami.exe', CommandLine: 'whoami x /all' }))).toBe(
      false,
    );
    expect(
      hits(r, ev({ Image: 'c:\\windows\\system32\\whoami.exe.bak', CommandLine: 'whoami * /all' })),
    ).toBe(false);
  });

  it('a list of values is OR; |all makes it AND; a map of items is AND; a list of maps is OR', () => {
    const r = rule(
      "  sel:\n    CommandLine|contains|all:\n      - 'ntdsutil'\n      - 'ifm'\n  other:\n    - Image|endswith: '\\\\cmd.exe'\n    - Image|endswith: '\\\\powershell.exe'\n  condition: sel or other",
    );
    expect(hits(r, ev({ CommandLine: 'ntdsutil "ac i ntds" ifm', Image: 'x' }))).toBe(true);
    expect(hits(r, ev({ CommandLine: 'ntdsutil files info', Image: 'x' }))).toBe(false);
    expect(hits(r, ev({ CommandLine: '', Image: 'C:\\Windows\\System32\\cmd.exe' }))).toBe(true);
  });

  it('null means absent; empty string means present and empty; a missing field makes an item false', () => {
    const absent = rule('  sel:\n    ParentCommandLine: null\n  condition: sel');
    expect(hits(absent, ev({ Image: 'x' }))).toBe(true);
    expect(hits(absent, ev({ ParentCommandLine: 'y' }))).toBe(false);
    const empty = rule("  sel:\n    CommandLine: ''\n  condition: sel");
    expect(hits(empty, ev({ CommandLine: '' }))).toBe(true);
    expect(hits(empty, ev({}))).toBe(false);
    const negated = rule(
      "  sel:\n    Image|endswith: '\\\\x.exe'\n  f:\n    OriginalFileName: 'x.exe'\n  condition: sel and not f",
    );
    expect(hits(negated, ev({ Image: 'C:\\x.exe' }))).toBe(true); // OriginalFileName missing: the filter is false
  });

  it('numbers match numbers and decimal strings; booleans match their text', () => {
    const r = rule('  sel:\n    TerminalSessionId: 1\n    Signed: true\n  condition: sel');
    expect(hits(r, ev({ TerminalSessionId: 1, Signed: 'true' }))).toBe(true);
    expect(hits(r, ev({ TerminalSessionId: '1', Signed: 'TRUE' }))).toBe(true);
    expect(hits(r, ev({ TerminalSessionId: '01x', Signed: 'true' }))).toBe(false);
  });

  it('keywords search every value of the event; |all needs every keyword', () => {
    const any = rule("  keywords:\n    - 'mimikatz'\n    - 'sekurlsa'\n  condition: keywords");
    expect(hits(any, ev({ Message: 'ran Mimikatz.exe' }))).toBe(true);
    expect(hits(any, ev({ Message: 'nothing here' }))).toBe(false);
    const all = rule(
      "  keywords:\n    '|all':\n      - 'sekurlsa'\n      - 'logonpasswords'\n  condition: keywords",
    );
    expect(hits(all, ev({ CommandLine: 'sekurlsa::logonpasswords' }))).toBe(true);
    expect(hits(all, ev({ CommandLine: 'sekurlsa::tickets' }))).toBe(false);
  });
});

describe('modifiers', () => {
  it('contains, startswith, endswith (without doubling a wildcard), cased', () => {
    const r = rule(
      "  sel:\n    CommandLine|contains: '*portproxy add*'\n    Image|startswith: 'C:\\Windows'\n    User|endswith|cased: '\\svc-fortinet'\n  condition: sel",
    );
    expect(
      hits(
        r,
        ev({
          CommandLine: 'netsh interface PORTPROXY ADD v4tov4',
          Image: 'c:\\windows\\system32\\netsh.exe',
          User: 'CONTOSO\\svc-fortinet',
        }),
      ),
    ).toBe(true);
    expect(
      hits(
        r,
        ev({
          CommandLine: 'netsh interface portproxy add',
          Image: 'c:\\windows\\netsh.exe',
          User: 'CONTOSO\\SVC-FORTINET',
        }),
      ),
    ).toBe(false);
  });

  it('endswith and startswith lists: path components, other suffixes and prefixes of every length', () => {
    const r = rule(
      "  sel:\n    Image|endswith:\n      - '\\cmd.exe'\n      - '\\Tools\\x.exe'\n      - 'shell.exe'\n      - '\\'\n  condition: sel",
    );
    const image = (Image: string) => hits(r, ev({ Image }));
    expect(image('C:\\Windows\\System32\\CMD.EXE')).toBe(true);
    expect(image('\\cmd.exe')).toBe(true); // the component is the whole value
    expect(image('C:\\Windows\\System32\\notcmd.exe')).toBe(false);
    expect(image('C:\\cmd.exe\\other.exe')).toBe(false);
    expect(image('D:\\Tools\\X.exe')).toBe(true); // two backslashes: by length
    expect(image('C:\\Windows\\powershell.exe')).toBe(true); // no backslash in the suffix
    expect(image('C:\\Temp\\')).toBe(true); // a lone backslash
    expect(image('cmd.exe')).toBe(false);
    const starts = rule(
      "  sel:\n    Image|startswith:\n      - 'C:\\Users\\'\n      - 'C:\\ProgramData\\Temp'\n  condition: sel",
    );
    expect(hits(starts, ev({ Image: 'c:\\users\\bob\\a.exe' }))).toBe(true);
    expect(hits(starts, ev({ Image: 'C:\\ProgramData\\temp\\a.exe' }))).toBe(true);
    expect(hits(starts, ev({ Image: 'C:\\User' }))).toBe(false);
  });

  it('exists true and false', () => {
    const yes = rule('  sel:\n    OriginalFileName|exists: true\n  condition: sel');
    const no = rule('  sel:\n    OriginalFileName|exists: false\n  condition: sel');
    expect(hits(yes, ev({ OriginalFileName: '' }))).toBe(true);
    expect(hits(no, ev({ OriginalFileName: '' }))).toBe(false);
    expect(hits(no, ev({}))).toBe(true);
  });

  it('neq: the field differs from every value', () => {
    const r = rule("  sel:\n    IntegrityLevel|neq:\n      - 'System'\n      - 'High'\n  condition: sel");
    expect(hits(r, ev({ IntegrityLevel: 'Medium' }))).toBe(true);
    expect(hits(r, ev({ IntegrityLevel: 'high' }))).toBe(false);
  });

  it('windash: - / and the three Unicode dashes introduce switches', () => {
    const r = rule("  sel:\n    CommandLine|windash|contains: ' -encodedcommand '\n  condition: sel");
    for (const dash of ['-', '/', '\u2013', '\u2014', '\u2015'])
      expect(hits(r, ev({ CommandLine: `powershell ${dash}EncodedCommand ABC` }))).toBe(true);
    expect(hits(r, ev({ CommandLine: 'powershell +encodedcommand ABC' }))).toBe(false);
  });

  it('re is case-sensitive unless |i; m and s flags; inline (?i)', () => {
    const cs = rule("  sel:\n    CommandLine|re: 'comsvcs\\.dll[, ]+MiniDump'\n  condition: sel");
    expect(hits(cs, ev({ CommandLine: 'rundll32 comsvcs.dll, MiniDump 624 x full' }))).toBe(true);
    expect(hits(cs, ev({ CommandLine: 'rundll32 COMSVCS.dll, minidump 624 x full' }))).toBe(false);
    const ci = rule("  sel:\n    CommandLine|re|i: 'comsvcs\\.dll[, ]+MiniDump'\n  condition: sel");
    expect(hits(ci, ev({ CommandLine: 'rundll32 COMSVCS.dll, minidump 624 x full' }))).toBe(true);
    const inline = rule("  sel:\n    CommandLine|re: '(?i)^rundll32'\n  condition: sel");
    expect(hits(inline, ev({ CommandLine: 'RUNDLL32 x' }))).toBe(true);
    const dotall = rule("  sel:\n    ScriptBlockText|re|s: 'a.b'\n  condition: sel");
    expect(hits(dotall, ev({ ScriptBlockText: 'a\nb' }))).toBe(true);
    const multi = rule("  sel:\n    ScriptBlockText|re|m: '^b$'\n  condition: sel");
    expect(hits(multi, ev({ ScriptBlockText: 'a\nb\nc' }))).toBe(true);
  });

  it('re: escapes that stand for other characters (\\x41, \\u0041, \\d) are not taken for the letters they are written with', () => {
    // The prefilter would otherwise look for "41zzy" and skip the event.
    const hex = rule("  sel:\n    CommandLine|re: 'x\\x41ZZY'\n  condition: sel");
    expect(hits(hex, ev({ CommandLine: 'run xAZZY now' }))).toBe(true);
    const uni = rule("  sel:\n    CommandLine|re: '\\u0041bcdef'\n  condition: sel");
    expect(hits(uni, ev({ CommandLine: 'Abcdef' }))).toBe(true);
    expect(hits(uni, ev({ CommandLine: 'abcdef' }))).toBe(false);
  });

  it('re: a value lacking the characters a regex needs is rejected before the regex runs, and the rest still match', () => {
    const plus = rule("  sel:\n    CommandLine|re: '\\+.*\\+.*\\+.*\\+'\n  condition: sel");
    expect(hits(plus, ev({ CommandLine: "'a'+'b'+'c'+'d'" }))).toBe(false); // three '+'
    expect(hits(plus, ev({ CommandLine: "'a'+'b'+'c'+'d'+'e'" }))).toBe(true);
    // Under |i (or inline (?i)) letters are not required as written.
    const ci = rule("  sel:\n    CommandLine|re|i: 'IEX`x'\n  condition: sel");
    expect(hits(ci, ev({ CommandLine: 'iex`X' }))).toBe(true);
    expect(hits(ci, ev({ CommandLine: 'iex X' }))).toBe(false);
    const inline = rule("  sel:\n    CommandLine|re: '(?i)IEX`x'\n  condition: sel");
    expect(hits(inline, ev({ CommandLine: 'iex`X' }))).toBe(true);
  });

  // No clock in the test: the timeout below is what a stall would hit.
  it('a pathological regex in a rule does not stall the hunt', { timeout: 60_000 }, () => {
    const r = rule(
      "  sel:\n    CommandLine|re|i: '^(a+)+$'\n  other:\n    CommandLine|re: '(\\w+\\s?)*$'\n  condition: sel or other",
    );
    expect(hits(r, ev({ CommandLine: `${'a'.repeat(5000)}!` }))).toBe(true);
    expect(hits(r, ev({ CommandLine: `${'x '.repeat(20_000)}!` }))).toBe(true);
  });

  it('base64, base64offset, and the UTF-16 encodings before them', () => {
    const b64 = rule("  sel:\n    CommandLine|base64|contains: 'whoami'\n  condition: sel");
    expect(hits(b64, ev({ CommandLine: `powershell -e ${Buffer.from('whoami').toString('base64')}` }))).toBe(
      true,
    );
    const offset = rule("  sel:\n    CommandLine|base64offset|contains: 'Invoke-Mimikatz'\n  condition: sel");
    for (const prefix of ['', 'a', 'ab']) {
      const enc = Buffer.from(`${prefix}Invoke-Mimikatz -DumpCreds`).toString('base64');
      expect(hits(offset, ev({ CommandLine: `powershell -e ${enc}` })), `offset ${prefix.length}`).toBe(true);
    }
    const wide = rule("  sel:\n    CommandLine|wide|base64offset|contains: 'comsvcs.dll'\n  condition: sel");
    const ps = Buffer.from(
      'cmd.exe /c rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 652 x full',
      'utf16le',
    ).toString('base64');
    expect(hits(wide, ev({ CommandLine: `powershell.exe -exec bypass -E ${ps}` }))).toBe(true);
    const le = rule("  sel:\n    CommandLine|utf16le|base64offset|contains: 'comsvcs.dll'\n  condition: sel");
    expect(hits(le, ev({ CommandLine: `powershell.exe -E ${ps}` }))).toBe(true);
    const be = rule("  sel:\n    Payload|utf16be|base64|contains: 'ab'\n  condition: sel");
    expect(hits(be, ev({ Payload: Buffer.from([0, 0x61, 0, 0x62]).toString('base64') }))).toBe(true);
    const bom = rule("  sel:\n    Payload|utf16|base64|contains: 'ab'\n  condition: sel");
    expect(hits(bom, ev({ Payload: Buffer.from([0xff, 0xfe, 0x61, 0, 0x62, 0]).toString('base64') }))).toBe(
      true,
    );
  });

  it('cidr for IPv4 and IPv6', () => {
    const r = rule(
      "  sel:\n    DestinationIp|cidr:\n      - '10.0.0.0/8'\n      - '2001:db8::/32'\n  condition: sel",
      'category: network_connection\n  product: windows',
    );
    const net = (ip: string) => ev({ DestinationIp: ip }, { eventId: 3 });
    expect(hits(r, net('10.1.2.3'))).toBe(true);
    expect(hits(r, net('2001:db8:0:1::5'))).toBe(true);
    expect(hits(r, net('11.0.0.1'))).toBe(false);
  });

  it('expand with placeholders from configuration; unresolved ones load with a warning and match nothing', () => {
    const text =
      "title: t\nid: p\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    User|expand: '%Admins%'\n  condition: sel\n";
    const resolved = loadRuleText(text, 't.yml', {
      placeholders: { Admins: ['CONTOSO\\jdoe', 'CONTOSO\\admin*'] },
    });
    const engine = new SigmaEngine(resolved.rules);
    expect(hits(engine, ev({ User: 'CONTOSO\\administrator' }))).toBe(true);
    expect(hits(engine, ev({ User: 'CONTOSO\\svc' }))).toBe(false);
    const unresolved = loadRuleText(text, 't.yml');
    expect(unresolved.rules).toHaveLength(1);
    expect(unresolved.problems).toEqual([
      expect.objectContaining({ code: 'SIGMA_UNRESOLVED_PLACEHOLDER', severity: 'warning', line: 8 }),
    ]);
    expect(hits(new SigmaEngine(unresolved.rules), ev({ User: 'CONTOSO\\jdoe' }))).toBe(false);
  });

  it('fieldref compares two fields (with contains / startswith / endswith)', () => {
    const r = rule('  sel:\n    ParentImage|fieldref: Image\n  condition: sel');
    expect(hits(r, ev({ Image: 'C:\\a.exe', ParentImage: 'c:\\A.EXE' }))).toBe(true);
    expect(hits(r, ev({ Image: 'C:\\a.exe', ParentImage: 'C:\\b.exe' }))).toBe(false);
    const contains = rule('  sel:\n    CommandLine|fieldref|contains: OriginalFileName\n  condition: sel');
    expect(hits(contains, ev({ CommandLine: 'x NETSH.EXE y', OriginalFileName: 'netsh.exe' }))).toBe(true);
  });

  it('gt, gte, lt, lte and the time parts', () => {
    const r = rule('  sel:\n    TerminalSessionId|gt: 1\n    TerminalSessionId|lte: 3\n  condition: sel');
    expect(hits(r, ev({ TerminalSessionId: '2' }))).toBe(true);
    expect(hits(r, ev({ TerminalSessionId: 4 }))).toBe(false);
    expect(hits(r, ev({ TerminalSessionId: 'x' }))).toBe(false);
    const t = rule(
      '  sel:\n    UtcTime|hour: 13\n    UtcTime|minute: 20\n    UtcTime|month: 5\n    UtcTime|year: 2023\n    UtcTime|day: 16\n    UtcTime|week: 20\n  condition: sel',
    );
    expect(hits(t, ev({ UtcTime: '2023-05-16 13:20:02.050' }))).toBe(true);
    expect(hits(t, ev({ UtcTime: '2023-05-16 14:20:02.050' }))).toBe(false);
  });
});

describe('prefilter needs', () => {
  it('a long OR list under `and not filter` is still the rule need (it scored below the start once: evaluated on every event)', () => {
    const names = Array.from({ length: 45 }, (_, i) => `'winapi${i}x'`).join(', ');
    const text = `title: t\nid: t-2\nlevel: high\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  selection:\n    CommandLine|contains: [${names}]\n  filter_optional_a:\n    Image|endswith: '\\a.exe'\n  condition: selection and not 1 of filter_optional_*\n`;
    const [r] = loadRuleText(text, 't.yml').rules;
    expect(r.need).toHaveLength(45);
    expect(r.need).toContain('winapi44x');
  });
});

describe('conditions', () => {
  const ids =
    "  selection_a:\n    Image|endswith: '\\\\a.exe'\n  selection_b:\n    CommandLine|contains: 'b'\n  filter_main:\n    User: 'SYSTEM'\n  _helper:\n    Image|contains: 'z'\n";
  const a = ev({ Image: 'C:\\a.exe', CommandLine: 'b', User: 'bob' });
  const aOnly = ev({ Image: 'C:\\a.exe', CommandLine: 'x', User: 'bob' });
  const system = ev({ Image: 'C:\\a.exe', CommandLine: 'b', User: 'SYSTEM' });
  it.each([
    ['all of selection_* and not 1 of filter_*', [true, false, false]],
    ['1 of selection_* and not filter_main', [true, true, false]],
    ['selection_a and (selection_b or filter_main)', [true, false, true]],
    ['not selection_b', [false, true, false]],
    ['all of them', [false, false, true]], // _helper is not part of them; the other three all hold only for the SYSTEM event
    ['1 of them', [true, true, true]],
    ['any of selection_*', [true, true, true]],
  ])('%s', (condition, expected) => {
    const r = rule(`${ids}  condition: ${condition}`);
    expect([a, aOnly, system].map((e) => hits(r, e))).toEqual(expected);
  });

  it('a list of conditions is their OR', () => {
    const r = rule(`${ids}  condition:\n    - selection_a and selection_b\n    - filter_main`);
    expect(hits(r, aOnly)).toBe(false);
    expect(hits(r, ev({ User: 'SYSTEM' }))).toBe(true);
  });
});

describe('load errors carry file:line:col', () => {
  it('an unknown modifier, with a suggestion', () => {
    const r = loadRuleText(
      "title: t\nlogsource:\n  category: process_creation\ndetection:\n  sel:\n    CommandLine|contians: 'x'\n  condition: sel\n",
      'r.yml',
    );
    expect(r.rules).toEqual([]);
    expect(r.problems[0]).toMatchObject({ file: 'r.yml', line: 6, col: 5, code: 'SIGMA_UNKNOWN_MODIFIER' });
    expect(r.problems[0].message).toContain("did you mean 'contains'");
  });

  it('modifier chains that contradict themselves are errors at their item, the modifiers named', () => {
    const item = (key: string, value = "'x'") =>
      loadRuleText(
        `title: t\nlogsource:\n  category: process_creation\ndetection:\n  sel:\n    ${key}: ${value}\n  condition: sel\n`,
        'r.yml',
      );
    const bad: [string, string, RegExp][] = [
      ['CommandLine|contains|startswith', "'x'", /'contains' and 'startswith' exclude each other/],
      ['ProcessId|lt|gt', '5', /'lt' and 'gt' exclude each other/],
      ['CommandLine|base64|re', "'x'", /'re' cannot be combined with 'base64'/],
      ['CommandLine|re|startswith', "'x'", /'re' cannot be combined with 'startswith'/],
      ['CommandLine|base64|base64offset|contains', "'x'", /'base64' and 'base64offset' exclude each other/],
      ['CommandLine|wide|contains', "'x'", /'wide' chooses the bytes .* neither follows it/],
      ['CommandLine|i', "'x'", /'i' is a flag of 're'/],
      ['ProcessId|gt|contains', '5', /'gt' compares numbers; 'contains' work on text/],
      ['DestinationIp|cidr|contains', "'10.0.0.0/8'", /'cidr' cannot be combined with 'contains'/],
      ['Image|exists|contains', 'true', /'exists' cannot be combined with 'contains'/],
      [
        'Image|fieldref|re',
        "'ParentImage'",
        /'re' cannot be combined with 'fieldref'|'fieldref' cannot be combined with 're'/,
      ],
      ['Image|contains|contains', "'x'", /modifier 'contains' is given twice/],
    ];
    for (const [key, value, message] of bad) {
      const r = item(key, value);
      expect(r.rules, key).toEqual([]);
      expect(r.problems[0], key).toMatchObject({
        file: 'r.yml',
        line: 6,
        col: 5,
        code: 'SIGMA_BAD_MODIFIER',
      });
      expect(r.problems[0].message, key).toMatch(message);
    }
    // The chains SigmaHQ uses, and other valid ones, still load.
    for (const [key, value] of [
      ['CommandLine|contains|all', "['a', 'b']"],
      ['CommandLine|wide|base64offset|contains', "'x'"],
      ['CommandLine|re|i', "'x'"],
      ['CommandLine|re|contains', "'x'"],
      ['CommandLine|contains|windash', "'-x'"],
      ['DestinationIp|cidr|neq', "'10.0.0.0/8'"],
      ['Image|fieldref|endswith', "'ParentImage'"],
      ['UtcTime|hour|gte', '22'],
      ['ProcessId|lte', '4'],
    ])
      expect(item(key, value).problems, key).toEqual([]);
  });

  it('an undefined identifier, a bad condition (column inside it), a pattern that matches nothing, an invalid regex', () => {
    const base = (det: string) =>
      `title: t\nlogsource:\n  category: process_creation\ndetection:\n  sel:\n    Image: x\n${det}`;
    expect(loadRuleText(base('  condition: sel and nope\n'), 'r.yml').problems[0]).toMatchObject({
      code: 'SIGMA_UNDEFINED_IDENTIFIER',
      line: 7,
    });
    expect(loadRuleText(base('  condition: sel and (sel\n'), 'r.yml').problems[0]).toMatchObject({
      code: 'SIGMA_BAD_CONDITION',
      line: 7,
      col: 26,
    });
    expect(loadRuleText(base('  condition: 1 of filter_*\n'), 'r.yml').problems[0]).toMatchObject({
      code: 'SIGMA_EMPTY_PATTERN',
    });
    const re = loadRuleText(
      "title: t\nlogsource:\n  category: process_creation\ndetection:\n  sel:\n    Image|re: '(unclosed'\n  condition: sel\n",
      'r.yml',
    );
    expect(re.problems[0]).toMatchObject({ code: 'SIGMA_BAD_REGEX', line: 6 });
  });

  it('broken YAML in one document does not stop the next', () => {
    const r = loadRuleText(
      'title: a\nlogsource: [\n---\ntitle: b\nid: ok\nlogsource:\n  category: process_creation\ndetection:\n  s:\n    Image: x\n  condition: s\n',
      'multi.yml',
    );
    expect(r.rules.map((x) => x.id)).toEqual(['ok']);
    expect(r.problems[0]).toMatchObject({ code: 'SIGMA_YAML', line: 3 });
  });
});

describe('logsource routing through the source profiles', () => {
  const r = rule(
    "  sel:\n    Image|endswith: '\\\\ntdsutil.exe'\n    CommandLine|contains|all:\n      - 'ifm'\n      - 'create full'\n    User|contains: 'svc-fortinet'\n  condition: sel",
  );
  const cmd = 'ntdsutil "ac i ntds" ifm "create full c:\\x" q q';
  it('a process_creation rule runs on Sysmon 1, Security 4688, DeviceProcessEvents and ECS with their own field names', () => {
    expect(
      hits(
        r,
        ev({ Image: 'C:\\Windows\\System32\\ntdsutil.exe', CommandLine: cmd, User: 'CONTOSO\\svc-fortinet' }),
      ),
    ).toBe(true);
    const sec = ev(
      {
        NewProcessName: 'C:\\Windows\\System32\\ntdsutil.exe',
        CommandLine: cmd,
        SubjectUserName: 'svc-fortinet',
        SubjectDomainName: 'CONTOSO',
      },
      { provider: 'Microsoft-Windows-Security-Auditing', channel: 'Security', eventId: 4688 },
    );
    expect(hits(r, sec)).toBe(true);
    const defender = ev(
      {
        FolderPath: 'c:\\windows\\system32\\ntdsutil.exe',
        FileName: 'ntdsutil.exe',
        ProcessCommandLine: cmd,
        AccountName: 'svc-fortinet',
        AccountDomain: 'contoso',
      },
      { provider: 'Microsoft-Defender-AdvancedHunting', channel: 'DeviceProcessEvents', eventId: null },
    );
    expect(hits(r, defender)).toBe(true);
    const ecs = ev(
      {
        'event.category': ['process'],
        'event.type': ['start'],
        'process.executable': 'C:\\Windows\\System32\\ntdsutil.exe',
        'process.command_line': cmd,
        'user.name': 'svc-fortinet',
      },
      { provider: 'endpoint', channel: 'endpoint.events.process', eventId: null },
    );
    expect(hits(r, ecs)).toBe(true);
  });

  it('never lets an EventID from another provider trigger the rule', () => {
    const other = ev(
      { Image: 'C:\\Windows\\System32\\ntdsutil.exe', CommandLine: cmd, User: 'svc-fortinet' },
      { provider: 'Some-Other-Provider', channel: 'Application' },
    );
    expect(hits(r, other)).toBe(false);
  });

  it('service rules run on their channel even where no profile knows the event', () => {
    const ts = rule(
      "  sel:\n    EventID: 106\n    TaskName|contains: 'Updater'\n  condition: sel",
      'product: windows\n  service: taskscheduler',
    );
    const e = ev(
      { EventID: 106, TaskName: '\\Updater' },
      {
        provider: 'Microsoft-Windows-TaskScheduler',
        channel: 'Microsoft-Windows-TaskScheduler/Operational',
        eventId: 106,
      },
    );
    expect(hits(ts, e)).toBe(true);
  });

  it('alerts carry the rule’s author, level, techniques and tactics', () => {
    const t = rule(
      "  sel:\n    Image|endswith: '\\\\ntdsutil.exe'\n  condition: sel",
      'category: process_creation\n  product: windows',
      'tags:\n  - attack.credential-access\n  - attack.t1003.003\n',
    );
    const [alert] = t.evaluate(normalize(ev({ Image: 'C:\\ntdsutil.exe' })));
    expect(alert.rule).toEqual({
      id: 't-1',
      title: 'test',
      level: 'high',
      kind: 'sigma',
      author: 'lotl tests',
      techniques: ['T1003.003'],
      tactics: ['credential-access'],
    });
    expect(alert.host).toBe('FS02');
  });
});
