import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

it('docs/profiles.md is what scripts/profiles-doc.mjs generates from the profiles (run npm run docs:profiles)', () => {
  const generated = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'profiles-doc.mjs')], {
    encoding: 'utf8',
  });
  expect(readFileSync(path.join(ROOT, 'docs', 'profiles.md'), 'utf8')).toBe(generated);
});
