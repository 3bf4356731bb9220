/**
 * The fast path (templates compiled to flat fields) must give exactly what the generic path
 * (instantiate the element tree, then flatten it like evtx_dump JSON) gives, on every record of
 * the corpus. The generic path is itself checked against libevtx in evtx-parity.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE, FILE_HEADER_SIZE, parseChunk } from '../../src/ingest/evtx/chunk.js';
import { DATA, FIXTURES, filesUnder, HAS_DATA } from '../helpers.js';

/** Records compared over every chunk of the files. */
function compareFastAndGeneric(files: string[]): number {
  let records = 0;
  for (const file of files) {
    const buf = readFileSync(file);
    for (let o = FILE_HEADER_SIZE, i = 0; o + CHUNK_SIZE <= buf.length; o += CHUNK_SIZE, i++) {
      const chunk = buf.subarray(o, o + CHUNK_SIZE);
      const opts = { file, index: i, fileOffset: o, recover: false, xml: false };
      const fast = parseChunk(chunk, opts);
      const generic = parseChunk(chunk, { ...opts, generic: true });
      expect(fast.events, `${file} chunk ${i}`).toEqual(generic.events);
      expect(fast.problems).toEqual(generic.problems);
      records += fast.events.length;
    }
  }
  return records;
}

describe('EVTX fast path', () => {
  it('equals the generic path on every chunk of the repo fixtures', () => {
    expect(compareFastAndGeneric(filesUnder(path.join(FIXTURES, 'evtx'), '.evtx'))).toBe(736);
  });

  it.runIf(HAS_DATA)('equals the generic path on every chunk of every corpus file', () => {
    expect(compareFastAndGeneric(filesUnder(DATA, '.evtx'))).toBeGreaterThan(16_000);
  });
});
