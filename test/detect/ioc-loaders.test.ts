import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIndicatorFile } from '../../src/detect/ioc/loaders.js';
import { FIXTURES } from '../helpers.js';

const iocs = (f: string) => path.join(FIXTURES, 'iocs', f);
const values = (r: ReturnType<typeof loadIndicatorFile>) => r.indicators.map((i) => `${i.type} ${i.value}`);

describe('indicator loaders', () => {
  it('plain lists: bare and typed values, refanged, with each broken line located', () => {
    const r = loadIndicatorFile(iocs('list.txt'));
    expect(r.format).toBe('list');
    expect(values(r)).toEqual([
      'md5 d41d8cd98f00b204e9800998ecf8427e',
      'sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709',
      'url http://evil.example.top/stage2.bin',
      'cidr 10.13.0.0/16',
      'filename frpc.exe',
    ]);
    expect(r.indicators[1].description).toBe('empty file');
    expect(r.problems.map((p) => [p.line, p.code])).toEqual([
      [6, 'BAD_HASH'],
      [7, 'UNKNOWN_TYPE'],
    ]);
    expect(r.problems[0].message).toContain('63 digits');
  });

  it('CSV with a header: type names as exports spell them, confidence, bad rows located', () => {
    const r = loadIndicatorFile(iocs('indicators.csv'));
    expect(r.format).toBe('csv');
    expect(values(r)).toEqual([
      'sha256 baeffeb5fdef2f42a752c65c2d2a52e84fb57efc906d981f89dd518c314e231c',
      'ipv4 198.51.100.14',
      'domain cdn-contoso.top',
    ]);
    expect(r.indicators[1]).toMatchObject({ description: 'C2, port 443', confidence: 70 });
    expect(r.problems).toEqual([expect.objectContaining({ line: 4, code: 'BAD_VALUE' })]);
  });

  it('STIX 2.1 bundles: OR / AND / FOLLOWEDBY and IN; unsupported and broken patterns reported with path and column', () => {
    const r = loadIndicatorFile(iocs('bundle.stix.json'));
    expect(r.format).toBe('stix');
    expect(values(r)).toEqual([
      'sha256 baeffeb5fdef2f42a752c65c2d2a52e84fb57efc906d981f89dd518c314e231c',
      'md5 3f3ba6bf2a4b3a1b7bd1a9c3b8b1a4e2',
      'cidr 198.51.100.0/24',
      'domain cdn-contoso.top',
      'url http://cdn-contoso.top/a',
      'ipv6 2001:db8::1',
      'ipv6 2001:db8::2',
    ]);
    expect(r.indicators[0]).toMatchObject({ confidence: 85, description: 'FRP binary' });
    expect(r.problems).toEqual([
      expect.objectContaining({ path: 'objects[4].pattern', col: 2, code: 'UNSUPPORTED_PATTERN' }),
      expect.objectContaining({ path: 'objects[5].pattern', code: 'BAD_PATTERN' }),
      expect.objectContaining({ path: 'objects[6].pattern', code: 'UNSUPPORTED_PATTERN' }),
    ]);
    expect(r.problems[0].message).toContain('process:command_line');
  });

  it('broken JSON is one located error', () => {
    const r = loadIndicatorFile(iocs('broken.json'));
    expect(r.indicators).toEqual([]);
    expect(r.problems).toEqual([expect.objectContaining({ code: 'BAD_JSON', line: 1 })]);
    expect(r.problems[0].col).toBeGreaterThan(50);
  });

  it('MISP events: only to_ids attributes, composite types split, unknown types and bad values located', () => {
    const r = loadIndicatorFile(iocs('misp-event.json'));
    expect(r.format).toBe('misp');
    expect(values(r)).toEqual([
      'sha256 baeffeb5fdef2f42a752c65c2d2a52e84fb57efc906d981f89dd518c314e231c',
      'ipv4 198.51.100.14',
      'domain cdn-contoso.top',
      'ipv4 198.51.100.15',
      'filename frpc.exe',
      'sha256 b4f7c5e3f14fb57be8b5f020377b993618b6e3532a4e1eb1eae9976d4130cc74',
    ]);
    expect(r.indicators[0]).toMatchObject({
      confidence: 100,
      description: 'Volt Typhoon FRP infrastructure: frp',
    });
    expect(r.problems).toEqual([
      expect.objectContaining({ path: 'Event[0].Attribute[4].type', code: 'UNKNOWN_TYPE' }),
      expect.objectContaining({ path: 'Event[0].Attribute[5].value', code: 'BAD_HASH' }),
    ]);
  });

  it('a missing file is reported, not thrown', () => {
    const r = loadIndicatorFile(iocs('nope.txt'));
    expect(r.problems[0].code).toBe('UNREADABLE');
  });
});
