/**
 * Access lists offered with both their `%%NNNN` codes and Windows' text for them, so rules written
 * either way match raw EVTX and rendered exports alike; the table agrees with Windows' own
 * rendering in the corpus (Security-Datasets records carry the raw list and the rendered message).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MESSAGE_CODES, withMessageText } from '../../src/normalize/message-codes.js';
import { DATA, HAS_DATA, runCli } from '../helpers.js';

describe('message codes', () => {
  it('adds the text to codes and the codes to text; leaves the unknown alone', () => {
    expect(withMessageText('%%4416\r\n\t\t\t\t%%4417\r\n\t\t\t\t')).toBe(
      '%%4416\r\n\t\t\t\t%%4417\r\n\t\t\t\t\nReadData (or ListDirectory)\nWriteData (or AddFile)',
    );
    expect(withMessageText('ReadData (or ListDirectory)\r\n\t\t\t\tWriteData (or AddFile)')).toBe(
      'ReadData (or ListDirectory)\r\n\t\t\t\tWriteData (or AddFile)\n%%4416\n%%4417',
    );
    expect(withMessageText('%%9999')).toBe('%%9999');
    expect(withMessageText('')).toBe('');
  });

  it.runIf(HAS_DATA)(
    'agrees with every code/text pair Windows rendered in the Security-Datasets JSON',
    () => {
      const dir = path.join(DATA, 'security-datasets', 'datasets', 'atomic', 'windows');
      let pairs = 0;
      const walk = (d: string): string[] =>
        readdirSync(d, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory()
            ? walk(path.join(d, e.name))
            : e.name.endsWith('.json')
              ? [path.join(d, e.name)]
              : [],
        );
      for (const file of walk(dir)) {
        for (const line of readFileSync(file, 'utf8').split('\n')) {
          if (!line.includes('%%') || !line.includes('Accesses:')) continue;
          const e = JSON.parse(line) as { AccessList?: unknown; Message?: string };
          if (typeof e.AccessList !== 'string' || !e.Message) continue;
          const codes = [...e.AccessList.matchAll(/%%(\d+)/g)].map((m) => m[1]);
          const m = /Accesses:\t*([\s\S]*?)(\r\n\r\n|\r\n\t[A-Z][a-z]+ [A-Z]|$)/.exec(e.Message);
          if (!m) continue;
          const texts = m[1]
            .split(/\r\n\t*/)
            .map((t) => t.trim())
            .filter(Boolean);
          if (texts.length !== codes.length) continue;
          codes.forEach((code, i) => {
            if (MESSAGE_CODES[code] === undefined) return; // not in the table: left as it is
            expect(MESSAGE_CODES[code], `%%${code}`).toBe(texts[i]);
            pairs++;
          });
        }
      }
      expect(pairs).toBeGreaterThan(100); // 164 in the plain JSON files (the zipped ones hold the rest)
    },
  );

  it.runIf(HAS_DATA)(
    "SigmaHQ's atsvc rule (AccessList|contains: 'WriteData') fires on the raw EVTX of a remote task creation",
    async () => {
      const file = path.join(
        DATA,
        'evtx-to-mitre-attack/EVTX_full_APT_attack_steps/ID4688,4698,4699,5145,4624-ATexec remote trask creation (GLOBAL).evtx',
      );
      const rule = path.join(DATA, 'sigma/rules/windows/builtin/security/win_security_atsvc_task.yml');
      const { stdout, stderr } = await runCli([
        'hunt',
        '--no-builtin',
        '--no-progress',
        '--format',
        'jsonl',
        '--sigma',
        rule,
        file,
      ]);
      const alerts = stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      expect(
        alerts.map((a) => [a.rule.title, a.user]),
        stderr,
      ).toEqual([['Remote Task Creation via ATSVC Named Pipe', 'OFFSEC\\admmig']]);
    },
  );
});
