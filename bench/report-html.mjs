#!/usr/bin/env node
/**
 * HTML report benchmark (issue: reports). Pages of 100,000 and 1,000,000 generated alerts (500
 * hosts, 300 accounts, 60 rules, command lines from templates with a counter, so most details are
 * distinct), written by the report's own code (src/report/html/), opened in Debian's chromium by
 * playwright-core: the time from navigation to the alert table's first rows, the time of a text
 * filter over every alert, and a scroll to the end. Target: 100,000 alerts open in under 3 s.
 * Usage: node bench/report-html.mjs   (after npm run build; LOTL_CHROMIUM names another browser)
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { htmlReport } from '../dist/report/html/page.js';
import { ReportAlertsBuilder } from '../dist/report/html/report-data.js';

const SIZES = (process.env.BENCH_SIZES ?? '100000,1000000').split(',').map(Number);
const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'];
const TACTICS = ['discovery', 'credential-access', 'lateral-movement', 'execution', 'defense-evasion'];
const COMMANDS = [
  'wmic process call create "cmd.exe /c whoami > C:\\Windows\\Temp\\o{n}.txt"',
  'rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump {n} C:\\Windows\\Temp\\l{n}.dmp full',
  'netsh interface portproxy add v4tov4 listenport={n} listenaddress=0.0.0.0 connectport=443 connectaddress=10.0.{n}',
  'ntdsutil "ac i ntds" ifm "create full C:\\Windows\\Temp\\Pro{n}" q q',
  'powershell.exe -nop -c "Get-WmiObject -Class Win32_ComputerSystem | Select {n}"',
  'cmd.exe /c ipconfig /all > C:\\Users\\Public\\ip{n}.txt',
];

function alertsOf(count) {
  const builder = new ReportAlertsBuilder();
  const start = Date.UTC(2023, 4, 1);
  for (let i = 0; i < count; i++) {
    const r = i % 60;
    builder.add({
      time: new Date(start + i * 1500).toISOString(),
      rule: {
        id: `bench-rule-${r}`,
        title: `Generated Behaviour Rule Number ${r}`,
        level: LEVELS[r % 5],
        kind: 'sigma',
        author: 'bench',
        techniques: [`T10${(r % 40) + 10}`],
        tactics: [TACTICS[r % 5]],
      },
      host: `host-${(i * 7) % 500}.contoso.local`,
      user: `CONTOSO\\user${(i * 13) % 300}`,
      source: {
        file: `logs/host-${(i * 7) % 500}.evtx`,
        format: 'evtx',
        record: i + 1,
        channel: 'Security',
        eventId: 4688,
      },
      event: { CommandLine: COMMANDS[i % COMMANDS.length].replace(/\{n\}/g, String(i)) },
    });
  }
  return builder;
}

const answers = { incidents: [], accounts: [], signins: [], coverage: [], limits: [] };
const dir = mkdtempSync(path.join(tmpdir(), 'lotl-bench-html-'));
const browser = await chromium.launch({
  executablePath: process.env.LOTL_CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
const rows = [];
try {
  for (const size of SIZES) {
    let t = performance.now();
    const alerts = alertsOf(size);
    const page = htmlReport(
      {
        version: 'bench',
        inputs: ['generated'],
        events: size,
        answers,
        problems: [],
        problemCount: 0,
        ruleProblems: [],
        excluded: 0,
        unreached: [],
        ruleSources: new Map(),
      },
      alerts,
    );
    const file = path.join(dir, `report-${size}.html`);
    writeFileSync(file, page);
    const writeSec = (performance.now() - t) / 1000;
    const tab = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = [];
    tab.on('pageerror', (e) => errors.push(String(e)));
    t = performance.now();
    await tab.goto(`file://${file}`);
    await tab.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    await tab.waitForSelector('#alert-rows .alert-row');
    const openSec = (performance.now() - t) / 1000;
    t = performance.now();
    await tab.fill('#f-text', 'portproxy');
    await tab.waitForFunction(() => document.getElementById('f-count')?.textContent?.includes(' of '));
    const filterSec = (performance.now() - t) / 1000;
    const shown = (await tab.locator('#f-count').textContent()) ?? '';
    t = performance.now();
    await tab.locator('#alert-view').evaluate((v) => {
      v.scrollTop = v.scrollHeight;
    });
    await tab.waitForTimeout(50);
    const scrollSec = (performance.now() - t) / 1000;
    if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
    rows.push([
      size.toLocaleString('en-US'),
      (statSync(file).size / 1048576).toFixed(1),
      writeSec.toFixed(1),
      openSec.toFixed(2),
      filterSec.toFixed(2),
      scrollSec.toFixed(2),
      shown,
    ]);
    await tab.close();
  }
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  '| alerts | page MB | written in s | opened in s (to first rows) | text filter s | scroll to end s | filter result |',
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
