#!/usr/bin/env node
/**
 * The pack's high and critical alerts on all of the shared data, one row per rule and file, with
 * the verdict a person gave that rule's alerts after reading them (docs/rule-pack.md, "Precision on
 * the rest of the shared data"). A rule without a verdict here is printed as "UNREVIEWED" and the
 * script exits 1: new alerts are read before the table is.
 *
 *   npm run build && node scripts/pack-precision.mjs > /tmp/table.md
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const data = path.resolve(root, process.env.LOTL_DATA ?? '../shared/data');

/** Verdicts by rule title; by title and file where one rule's alerts differ. */
const VERDICTS = {
  'Domain Controller Installation Media Created With Ntdsutil':
    'true: ntdsutil IFM creation in an attack recording',
  'LSASS Memory Dump Via Comsvcs.dll MiniDump':
    'true: comsvcs MiniDump of LSASS (Atomic / Metasploit / LSASSY recordings)',
  'Browser Credential Store Read By Another Program':
    'true: a non-browser process opening Chrome, Firefox and Opera credential files',
  'Copy Of The AD Database Opened Outside Its Folder':
    'true: ESENT attaching an IFM copy or snapshot of ntds.dit',
  'Event Log Cleared':
    'true: the recording holds a 1102 or 104 record (the log was cleared, typically just before the capture)',
  'Event Log Cleared From The Command Line': 'true: wevtutil cl in the recording',
  'Handle To LSASS With Memory-Read Rights (Security Log)':
    'true: a dumper (Dumpert, procdump, Task Manager, rundll32 comsvcs, mimikatz in PowerShell, a payload) asking for LSASS memory in a credential-access recording',
  'Impacket-Style Remote Execution': 'true: Impacket wmiexec / dcomexec / smbexec command lines',
  'LSASS Dump File Written': 'true: an lsass*.dmp file written by a dumping tool or Task Manager',
  'LSASS Memory Dump With A Dumping Tool': 'true: procdump or rdrleakdiag pointed at LSASS',
  'Port Proxy To Another Host Added With Netsh': 'true: netsh portproxy add to another host',
  'Port Proxy Configured In The Registry': 'true: PortProxy value written by netsh',
  'Process Opened LSASS With Memory-Read Rights':
    'true: a dumper, mimikatz, PowerShell, rundll32 or a payload reading LSASS memory in a credential-access recording',
  'PsExec-Style Remote Execution Pipes':
    'true: PsExec (also renamed) service pipes and their -stdin/-stdout/-stderr in PsExec recordings',
  'Registry Hive With Credentials Saved To A File':
    'true: reg save of SAM, SYSTEM, SECURITY or the LSA secrets key',
  'Remote Process Created With WMIC': 'true: wmic /node: process call create',
  'Shadow Copy Created Or Read For The AD Database Or Registry Hives':
    'true: shadow copy created, or ntds.dit / SYSTEM copied out of one',
};
const BY_FILE = {
  'Process Opened LSASS With Memory-Read Rights': [
    [
      /CommandLineEventConsumer/,
      'true (a reviewer may hesitate): c:\\python27\\python.exe opening LSASS with 0x1410 in a WMI-persistence attack recording; no benign reason on a workstation',
    ],
  ],
};

const run = spawnSync(
  process.execPath,
  [
    path.join(root, 'dist', 'cli', 'main.js'),
    'hunt',
    '--no-progress',
    '--no-correlate',
    '--no-kql',
    '--min-level',
    'high',
    '--format',
    'jsonl',
    data,
  ],
  { encoding: 'utf8', maxBuffer: 1 << 30 },
);
if (run.status !== 0) {
  process.stderr.write(run.stderr);
  process.exit(2);
}
const rows = new Map();
for (const line of run.stdout.split('\n')) {
  if (!line) continue;
  const a = JSON.parse(line);
  const file = path.relative(data, a.source.file);
  const key = `${a.rule.level}\u0000${a.rule.title}\u0000${file}`;
  rows.set(key, (rows.get(key) ?? 0) + 1);
}
const rank = { critical: 0, high: 1 };
let unreviewed = 0;
let total = 0;
const out = [
  '| level | rule | file (under `../shared/data/`) | alerts | verdict |',
  '| --- | --- | --- | ---: | --- |',
];
for (const [key, n] of [...rows].sort(([a], [b]) => {
  const [la, ta, fa] = a.split('\u0000');
  const [lb, tb, fb] = b.split('\u0000');
  return rank[la] - rank[lb] || ta.localeCompare(tb) || fa.localeCompare(fb);
})) {
  const [level, title, file] = key.split('\u0000');
  const special = BY_FILE[title]?.find(([re]) => re.test(file))?.[1];
  const verdict = special ?? VERDICTS[title];
  if (!verdict) unreviewed++;
  total += n;
  out.push(`| ${level} | ${title} | \`${file}\` | ${n} | ${verdict ?? 'UNREVIEWED'} |`);
}
process.stdout.write(
  `${out.join('\n')}\n\n${total} alerts in ${rows.size} rows; ${unreviewed} rows unreviewed\n`,
);
process.exit(unreviewed > 0 ? 1 : 0);
