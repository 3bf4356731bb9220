/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The HTML report in a real browser (Debian's chromium, driven by playwright-core): the page of
 * the scenario opens with no console error and no request but its own file, every section is
 * there, the alert table filters and shows an alert's detail; a page of hostile logs runs no
 * script of theirs. Screenshots go to test-artifacts/report-html/.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers.js';
import { HAS_CHROMIUM, launchChromium, sayIfNoChromium } from '../support/chromium.js';

sayIfNoChromium("the HTML report's browser tests");
const SHOTS = path.join(ROOT, 'test-artifacts', 'report-html');
const SECTIONS = [
  'summary',
  'incidents',
  'accounts',
  'signins',
  'timeline',
  'matrix',
  'iocs',
  'alerts',
  'coverage',
  'appendix',
];

let browser: Browser;
beforeAll(async () => {
  if (!HAS_CHROMIUM) return;
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** Opens a page, recording console errors, page errors, dialogs and every request. */
async function open(
  file: string,
): Promise<{ page: Page; errors: string[]; requests: string[]; dialogs: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => requests.push(r.url()));
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  await page.goto(`file://${file}`);
  await page.waitForSelector('body[data-ready]', { timeout: 30_000 });
  return { page, errors, requests, dialogs };
}

async function report(inputs: string[]): Promise<string> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'lotl-html-')), 'report.html');
  const r = await runCli(['report', '--no-progress', ...inputs, '--html', file]);
  expect(r.code, r.stderr).toBe(0);
  return file;
}

describe.skipIf(!HAS_CHROMIUM)('the HTML report in chromium', () => {
  it('the scenario: no console error, no request, every section, a table that filters', async () => {
    const file = await report(['examples/']);
    const { page, errors, requests } = await open(file);
    try {
      expect(await page.evaluate(() => document.body.dataset.ready)).toBe('true');
      expect(errors).toEqual([]);
      expect(requests).toEqual([`file://${file}`]);
      for (const id of SECTIONS) {
        const section = page.locator(`section#${id}`);
        await expect(section.count()).resolves.toBe(1);
        await section.screenshot({ path: path.join(SHOTS, `${id}.png`) });
      }
      await expect(page.locator('#f-count').textContent()).resolves.toBe('57 alerts');
      // The rows in view are real rows of the data.
      const rows = page.locator('#alert-rows .alert-row');
      expect(await rows.count()).toBeGreaterThan(10);
      // Search: only alerts with ntdsutil in their rule, host, account or details.
      await page.fill('#f-text', 'ntdsutil');
      await page.waitForFunction(() => document.getElementById('f-count')?.textContent?.includes(' of 57'));
      const count = Number((await page.locator('#f-count').textContent())!.split(' ')[0]);
      expect(count).toBeGreaterThan(1);
      expect(count).toBeLessThan(57);
      expect(await rows.count()).toBe(count);
      for (const text of await rows.allTextContents()) expect(text.toLowerCase()).toContain('ntds');
      // Level: critical only.
      await page.selectOption('#f-level', 'critical');
      await page.waitForFunction(
        (n) => !document.getElementById('f-count')?.textContent?.startsWith(`${n} `),
        count,
      );
      for (const text of await page.locator('#alert-rows .alert-row span:nth-child(2)').allTextContents())
        expect(text).toBe('critical');
      // An alert's detail, with a link to the rule behind it.
      await rows.first().click();
      const detail = page.locator('#alert-detail');
      await expect(detail.isVisible()).resolves.toBe(true);
      expect(await detail.textContent()).toContain('ntdsutil');
      const link = await detail.locator('a').getAttribute('href');
      expect(link).toMatch(/^#rule-/);
      await expect(page.locator(`[id="${link!.slice(1)}"]`).count()).resolves.toBe(1);
      await page.screenshot({ path: path.join(SHOTS, 'filtered.png') });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('virtual scrolling: 5,000 alerts, only the rows in view are in the page', async () => {
    // 5,000 distinct discovery commands, each an informational signal of the pack.
    const dir = mkdtempSync(path.join(tmpdir(), 'lotl-html-many-'));
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++)
      lines.push(
        JSON.stringify({
          EventID: 4688,
          Channel: 'Security',
          Computer: `ws${i % 50}.contoso.local`,
          TimeCreated: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
          NewProcessName: 'C:\\Windows\\System32\\whoami.exe',
          CommandLine: `whoami /all ${i}`,
          SubjectUserName: `user${i % 7}`,
          SubjectDomainName: 'CONTOSO',
          EventRecordID: i + 1,
        }),
      );
    writeFileSync(path.join(dir, 'many.jsonl'), `${lines.join('\n')}\n`);
    const { page, errors } = await open(await report([dir]));
    try {
      const total = Number((await page.locator('#f-count').textContent())!.split(' ')[0].replace(/,/g, ''));
      expect(total).toBeGreaterThanOrEqual(5000);
      const rows = page.locator('#alert-rows .alert-row');
      expect(await rows.count()).toBeLessThan(60);
      // Scrolled to the end, the last alert is in view.
      await page.locator('#alert-view').evaluate((v) => {
        v.scrollTop = v.scrollHeight;
      });
      await page.waitForFunction(() =>
        Array.from(document.querySelectorAll('#alert-rows .alert-row')).some((r) =>
          r.textContent?.includes('whoami /all 4999'),
        ),
      );
      expect(await rows.count()).toBeLessThan(60);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('hostile logs: their markup stays text, no script of theirs runs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lotl-html-evil-'));
    const payload = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';
    writeFileSync(
      path.join(dir, 'evil.jsonl'),
      `${JSON.stringify({
        EventID: 1,
        Channel: 'Microsoft-Windows-Sysmon/Operational',
        Provider_Name: 'Microsoft-Windows-Sysmon',
        Computer: `ws01${payload}`,
        TimeCreated: '2024-01-01T00:00:00Z',
        Image: 'C:\\Windows\\System32\\ntdsutil.exe',
        CommandLine: `ntdsutil "ac i ntds" ifm "create full c:\\temp\\x" q q ${payload}`,
        User: 'CONTOSO\\admin',
      })}\n`,
    );
    const { page, errors, requests, dialogs } = await open(await report([dir]));
    try {
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
      expect(requests).toHaveLength(1);
      expect(await page.evaluate(() => document.scripts.length)).toBe(2);
      expect(await page.evaluate(() => document.images.length)).toBe(0);
      await page.locator('#alert-rows .alert-row').first().click();
      expect(await page.locator('#alert-detail').textContent()).toContain('<script>alert(1)</script>');
      await page.screenshot({ path: path.join(SHOTS, 'hostile.png') });
    } finally {
      await page.close();
    }
  });
});
