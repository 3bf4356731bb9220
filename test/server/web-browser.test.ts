/// <reference lib="dom" />
/**
 * The web UI of `lotl serve` in a real browser (Debian's chromium, driven by playwright-core):
 * upload examples/ and watch the jobs finish, filter the alerts and open one, open the incident,
 * run the advisory's ntdsutil query in the Kusto editor and see its rows, see a syntax error
 * marked in place. No request leaves the server's origin. Screenshots go to test-artifacts/serve/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES, ROOT } from '../helpers.js';
import { HAS_CHROMIUM, launchChromium, sayIfNoChromium } from '../support/chromium.js';
import { type RunningServer, SCENARIO_FILES, startServer } from './server-process.js';

sayIfNoChromium("the web UI's browser tests");
const SHOTS = path.join(ROOT, 'test-artifacts', 'serve');
const FILES = SCENARIO_FILES.map((f) => path.join(EXAMPLES, f));

let browser: Browser;
let server: RunningServer;
let page: Page;
let dir: string;
const consoleErrors: string[] = [];
const foreign: string[] = [];
/** Answers of 400 and above: only the syntax error's is expected. */
const failed: string[] = [];

beforeAll(async () => {
  if (!HAS_CHROMIUM) return;
  mkdirSync(SHOTS, { recursive: true });
  dir = mkdtempSync(path.join(tmpdir(), 'lotl-serve-web-'));
  server = await startServer(['--db', path.join(dir, 'web.duckdb')]);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${new URL(r.url()).pathname}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(server.url) && !r.url().startsWith('blob:') && !r.url().startsWith('data:'))
      foreign.push(r.url());
  });
  await page.goto(`${server.url}/#token=${server.token}`);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!HAS_CHROMIUM)('lotl serve, the web UI in chromium', () => {
  it('uploads examples/ and shows each job finish', async () => {
    // The token came in the address's fragment and left it.
    expect(new URL(page.url()).hash).toBe('');
    await page.setInputFiles('#files', FILES);
    await page.waitForFunction(
      (n) => document.querySelectorAll('#jobs tbody tr[data-state="done"]').length === n,
      FILES.length,
      { timeout: 60_000 },
    );
    await page.waitForFunction(() => /alerts/.test(document.querySelector('#status')?.textContent ?? ''));
    const events = await page.$$eval('#jobs tbody tr td:nth-child(4)', (tds) =>
      tds.reduce((s, td) => s + Number((td.textContent ?? '0').replace(/,/g, '')), 0),
    );
    expect(events).toBeGreaterThan(290);
    await page.screenshot({ path: path.join(SHOTS, 'upload.png'), fullPage: true });
  }, 90_000);

  it('filters the alerts and opens one', async () => {
    await page.click('button[data-tab="alerts"]');
    await page.waitForSelector('#alert-table tbody tr');
    const all = await page.$$eval('#alert-table tbody tr', (rows) => rows.length);
    await page.selectOption('#alert-filter select[name=level]', 'critical');
    await page.fill('#alert-filter input[name=host]', 'FS02.contoso.local');
    await page.click('#alert-filter button[type=submit]');
    await page.waitForFunction((n) => document.querySelectorAll('#alert-table tbody tr').length !== n, all);
    const levels = await page.$$eval('#alert-table tbody tr td:nth-child(2)', (tds) =>
      tds.map((t) => t.textContent),
    );
    const hosts = await page.$$eval('#alert-table tbody tr td:nth-child(4)', (tds) =>
      tds.map((t) => t.textContent),
    );
    expect(levels.length).toBeGreaterThan(0);
    expect(levels.length).toBeLessThan(all);
    expect(new Set(levels)).toEqual(new Set(['critical']));
    expect(new Set(hosts)).toEqual(new Set(['FS02.contoso.local']));
    await page.click('#alert-table tbody tr:first-child');
    const detail = await page.textContent('#alert-detail');
    expect(detail).toContain('critical');
    expect(detail).toContain('FS02.contoso.local');
    await page.screenshot({ path: path.join(SHOTS, 'alerts.png'), fullPage: true });
  });

  it('opens the incident: its chain, hosts and the accounts to reset', async () => {
    await page.click('button[data-tab="incidents"]');
    await page.waitForSelector('#incident-table tbody tr');
    const rows = await page.$$eval('#incident-table tbody tr', (trs) => trs.map((t) => t.textContent ?? ''));
    const main = rows.findIndex((r) => r.includes('FS02') && r.includes('svc-fortinet'));
    expect(main).toBeGreaterThanOrEqual(0);
    await page.click(`#incident-table tbody tr:nth-child(${main + 1})`);
    const detail = (await page.textContent('#incident-detail')) ?? '';
    expect(detail).toContain('Chain');
    expect(detail).toMatch(/credential-access/);
    expect(detail).toContain('LSASS Memory Dump Via Comsvcs.dll MiniDump');
    const accounts = (await page.textContent('#account-table')) ?? '';
    expect(accounts).toContain('svc-fortinet');
    expect(accounts).toContain('mlopez');
    expect(accounts).not.toContain('jdoe');
    await page.screenshot({ path: path.join(SHOTS, 'incident.png'), fullPage: true });
  });

  it('lists the unusual sign-ins', async () => {
    await page.click('button[data-tab="signins"]');
    await page.waitForSelector('#signin-table tbody tr');
    const rows = await page.$$eval('#signin-table tbody tr', (trs) => trs.map((t) => t.textContent ?? ''));
    // svc-fortinet from 203.0.113.77, an address never seen for it (examples/README.md).
    expect(rows.some((r) => r.includes('svc-fortinet') && r.includes('203.0.113.77'))).toBe(true);
    expect(rows.some((r) => r.includes('jdoe'))).toBe(false);
    await page.screenshot({ path: path.join(SHOTS, 'signins.png'), fullPage: true });
  });

  it('runs the advisory’s ntdsutil query in the Kusto editor and shows its rows', async () => {
    await page.click('button[data-tab="query"]');
    await page.waitForSelector('#editor[data-ready="monaco"]', { timeout: 60_000 });
    await page.waitForSelector('#editor[data-schema="ready"]', { timeout: 60_000 });
    await page.selectOption(
      '#hunt-list',
      'volt-typhoon-find-commands-creating-domain-controller-installation-media',
    );
    expect(
      await page.evaluate(() =>
        (window as unknown as { lotlEditor: { getValue(): string } }).lotlEditor.getValue(),
      ),
    ).toContain('has_all ("ntdsutil", "create full", "pro")');
    await page.click('#run-query');
    await page.waitForSelector('#query-table tbody tr');
    const cells = await page.$$eval('#query-table tbody tr', (trs) => trs.map((t) => t.textContent ?? ''));
    expect(cells.length).toBeGreaterThan(0);
    for (const c of cells) expect(c.toLowerCase()).toContain('create full');
    expect(await page.textContent('#query-sql pre')).toMatch(/^SELECT /);
    await page.screenshot({ path: path.join(SHOTS, 'query.png'), fullPage: true });
  }, 90_000);

  it('marks a syntax error in place', async () => {
    await page.evaluate(() =>
      (window as unknown as { lotlEditor: { setValue(t: string): void } }).lotlEditor.setValue(
        'DeviceProcessEvents\n| wher FileName == "x"',
      ),
    );
    await page.click('#run-query');
    await page.waitForFunction(() => (document.querySelector('#query-problems')?.textContent ?? '') !== '');
    const markers = await page.evaluate(() =>
      (
        window as unknown as {
          monaco: {
            editor: {
              getModelMarkers(f: { owner: string }): { startLineNumber: number; startColumn: number }[];
            };
          };
        }
      ).monaco.editor.getModelMarkers({ owner: 'lotl' }),
    );
    expect(markers.length).toBeGreaterThan(0);
    expect(markers[0]).toMatchObject({ startLineNumber: 2, startColumn: 3 });
    // Drawn under the text: the editor's error squiggle.
    await page.waitForSelector('#editor .squiggly-error');
    expect(await page.textContent('#query-problems')).toContain('line 2, column 3');
    await page.screenshot({ path: path.join(SHOTS, 'query-error.png'), fullPage: true });
  });

  it('completes column names from the schema', async () => {
    await page.evaluate(() => {
      const editor = (
        window as unknown as {
          lotlEditor: { setValue(t: string): void; setPosition(p: object): void; focus(): void };
        }
      ).lotlEditor;
      editor.setValue('DeviceProcessEvents\n| where ProcessCommandL');
      editor.setPosition({ lineNumber: 2, column: 25 });
      editor.focus();
    });
    await page.keyboard.press('Control+Space');
    await page.waitForSelector('.suggest-widget .monaco-list-row', { timeout: 30_000 });
    const suggestions = await page.$$eval('.suggest-widget .monaco-list-row', (rows) =>
      rows.map((r) => r.textContent ?? ''),
    );
    expect(suggestions.some((t) => t.includes('ProcessCommandLine'))).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'query-completion.png'), fullPage: true });
    await page.keyboard.press('Escape');
  });

  it('lists the rules with their hits, and shows a rule’s alerts', async () => {
    await page.click('button[data-tab="rules"]');
    await page.waitForSelector('#rule-table tbody tr');
    await page.fill('#rule-search', 'ntdsutil');
    const rows = await page.$$eval('#rule-table tbody tr', (trs) =>
      trs.map((t) => [...t.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    );
    const ifm = rows.find((r) => r[2] === 'Domain Controller Installation Media Created With Ntdsutil');
    expect(ifm).toBeDefined();
    expect(Number(ifm?.[0])).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SHOTS, 'rules.png'), fullPage: true });
    await page.click(`#rule-table tbody tr:nth-child(${rows.indexOf(ifm as string[]) + 1})`);
    await page.waitForFunction(() => document.querySelector('#alerts')?.classList.contains('active'));
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('#alert-table tbody tr td:nth-child(3)')].every(
          (td) => td.textContent === 'Domain Controller Installation Media Created With Ntdsutil',
        ) && document.querySelectorAll('#alert-table tbody tr').length > 0,
    );
    expect(await page.$$eval('#alert-table tbody tr', (trs) => trs.length)).toBe(Number(ifm?.[0]));
  });

  it('made no request beyond its server and logged no error', () => {
    expect(foreign).toEqual([]);
    expect(failed).toEqual(['400 /api/query']);
    // (The browser logs each failed answer too: those are the ones above.)
    expect(consoleErrors.filter((e) => !e.startsWith('Failed to load resource'))).toEqual([]);
  });
});
