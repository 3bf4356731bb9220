#!/usr/bin/env node
/**
 * npm 11 on Linux leaves other platforms' optional packages (biome's and rollup's native binaries
 * for macOS, Windows, musl…) out of package-lock.json, and `npm ci` then refuses the lockfile as
 * out of sync (npm/cli#4828). This adds the missing entries from the registry's metadata, the way
 * a lockfile written on each platform would hold them. The registry our machines reach serves only
 * Linux builds; a package it does not have is recorded as a bare optional entry with its platform
 * (guessed from its name), which npm ci accepts and skips on Linux. Run after changing dependencies:
 *   npm install && node scripts/complete-lockfile.mjs && npm ci --dry-run
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [key, entry] of Object.entries(packages)) {
  if (!entry.optionalDependencies) continue;
  for (const [name, range] of Object.entries(entry.optionalDependencies)) {
    const nested = `${key ? `${key}/` : ''}node_modules/${name}`;
    if (packages[nested] || packages[`node_modules/${name}`]) continue;
    let m;
    try {
      const meta = JSON.parse(
        execFileSync('npm', ['view', `${name}@${range}`, '--json'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }),
      );
      m = Array.isArray(meta) ? meta[meta.length - 1] : meta;
    } catch {
      m = null;
    }
    if (!m?.dist) {
      packages[`node_modules/${name}`] = {
        version: range.replace(/^[\^~=]/, ''),
        ...platformOf(name),
        ...(entry.dev ? { dev: true } : {}),
        optional: true,
      };
      added++;
      continue;
    }
    const record = { version: m.version, integrity: m.dist.integrity };
    for (const field of ['cpu', 'os', 'libc']) if (m[field]) record[field] = m[field];
    if (entry.dev) record.dev = true;
    record.license = m.license;
    record.optional = true;
    if (m.engines) record.engines = m.engines;
    packages[`node_modules/${name}`] = record;
    added++;
  }
}
/** `@rollup/rollup-darwin-arm64`, `@biomejs/cli-linux-x64-musl` → { os, cpu, libc } */
function platformOf(name) {
  const base = name.split('/').pop();
  const os = [
    'android',
    'darwin',
    'freebsd',
    'linux',
    'openbsd',
    'netbsd',
    'sunos',
    'win32',
    'aix',
    'openharmony',
  ].find((o) => base.includes(o));
  const cpu = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 'riscv64', 's390x', 'loong64', 'mips64el'].find((c) =>
    new RegExp(`(^|-)${c}($|-)`).test(base),
  );
  const out = {};
  if (cpu) out.cpu = [cpu];
  if (os) out.os = [os];
  if (base.includes('musl')) out.libc = ['musl'];
  else if (os === 'linux' && base.includes('gnu')) out.libc = ['glibc'];
  return out;
}

lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform entries to package-lock.json`);
