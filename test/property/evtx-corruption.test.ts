/**
 * Seeded corruption of real EVTX files, 2,000+ cases: truncation, flipped bytes in the file
 * header, the chunk header, its string and template tables, the template definitions and the
 * records, and wiped chunks. The reader must never throw, finish each case quickly, report the
 * damage, and still give every record of the chunks the damage did not touch.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFileHeader, CHUNK_SIZE, FILE_HEADER_SIZE } from '../../src/ingest/evtx/chunk.js';
import { readEvtx } from '../../src/ingest/evtx/reader.js';
import type { InputProblem, RawEvent } from '../../src/ingest/raw-event.js';
import { collect, DATA, FIXTURES, HAS_DATA } from '../helpers.js';

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'fileHeader'; pos: number; xor: number }
  | {
      kind: 'chunkHeader' | 'stringTable' | 'templateTable' | 'templateDefinition' | 'record';
      chunk: number;
      pos: number;
      xor: number;
    }
  | { kind: 'zeroChunk'; chunk: number };

async function read(buf: Buffer, recover = false): Promise<{ events: RawEvent[]; problems: InputProblem[] }> {
  async function* bytes() {
    // Deliver in odd-sized pieces, as a stream would.
    for (let i = 0; i < buf.length; i += 50_000) yield buf.subarray(i, i + 50_000);
  }
  return collect(readEvtx(bytes(), 'fuzz.evtx', { workers: false, recover }));
}

const chunkOf = (e: RawEvent) => Math.floor(((e.origin.offset ?? 0) - FILE_HEADER_SIZE) / CHUNK_SIZE);

function byChunk(events: RawEvent[]): Map<number, string> {
  const groups = new Map<number, RawEvent[]>();
  for (const e of events) groups.set(chunkOf(e), [...(groups.get(chunkOf(e)) ?? []), e]);
  return new Map([...groups].map(([k, v]) => [k, JSON.stringify(v)]));
}

/** A file of `chunks` chunks of a real multi-chunk sample, with a header that counts them. */
function base(file: string, chunks: number): Buffer {
  const src = readFileSync(file);
  const count = Math.min(chunks, Math.floor((src.length - FILE_HEADER_SIZE) / CHUNK_SIZE));
  return Buffer.concat([
    buildFileHeader(count),
    src.subarray(FILE_HEADER_SIZE, FILE_HEADER_SIZE + count * CHUNK_SIZE),
  ]);
}

function apply(buf: Buffer, m: Mutation): { out: Buffer; touched: Set<number> } {
  const out = Buffer.from(buf);
  const chunks = (buf.length - FILE_HEADER_SIZE) / CHUNK_SIZE;
  switch (m.kind) {
    case 'truncate': {
      const first = Math.max(0, Math.floor((m.at - FILE_HEADER_SIZE) / CHUNK_SIZE));
      const touched = new Set<number>();
      for (let c = first; c < chunks; c++) touched.add(c);
      return { out: out.subarray(0, m.at), touched };
    }
    case 'fileHeader':
      out[m.pos] ^= m.xor;
      return { out, touched: new Set() };
    case 'zeroChunk':
      out.fill(0, FILE_HEADER_SIZE + m.chunk * CHUNK_SIZE, FILE_HEADER_SIZE + (m.chunk + 1) * CHUNK_SIZE);
      return { out, touched: new Set([m.chunk]) };
    default:
      out[FILE_HEADER_SIZE + m.chunk * CHUNK_SIZE + m.pos] ^= m.xor;
      return { out, touched: new Set([m.chunk]) };
  }
}

function mutations(buf: Buffer): fc.Arbitrary<Mutation> {
  const chunks = (buf.length - FILE_HEADER_SIZE) / CHUNK_SIZE;
  const chunk = fc.integer({ min: 0, max: chunks - 1 });
  const xor = fc.integer({ min: 1, max: 255 });
  // Byte ranges a checksum covers: flipping there must be detected.
  const freeSpace = (c: number) => buf.readUInt32LE(FILE_HEADER_SIZE + c * CHUNK_SIZE + 48);
  const firstRecordEnd = (c: number) => 512 + buf.readUInt32LE(FILE_HEADER_SIZE + c * CHUNK_SIZE + 512 + 4);
  const within = (
    kind: 'chunkHeader' | 'stringTable' | 'templateTable' | 'templateDefinition' | 'record',
    lo: (c: number) => number,
    hi: (c: number) => number,
  ) =>
    chunk.chain((c) =>
      fc.record({
        kind: fc.constant(kind),
        chunk: fc.constant(c),
        pos: fc.integer({ min: lo(c), max: hi(c) - 1 }),
        xor,
      }),
    );
  return fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at: fc.integer({ min: 0, max: buf.length - 1 }) }),
    fc.record({
      kind: fc.constant('fileHeader' as const),
      pos: fc.oneof(fc.integer({ min: 0, max: 119 }), fc.integer({ min: 124, max: 127 })),
      xor,
    }),
    chunk.chain((c) =>
      fc.record({
        kind: fc.constant('chunkHeader' as const),
        chunk: fc.constant(c),
        pos: fc.oneof(fc.integer({ min: 0, max: 119 }), fc.integer({ min: 124, max: 127 })),
        xor,
      }),
    ),
    within(
      'stringTable',
      () => 128,
      () => 384,
    ),
    within(
      'templateTable',
      () => 384,
      () => 512,
    ),
    // The first record of a chunk carries the resident template definitions.
    within('templateDefinition', () => 512 + 24, firstRecordEnd),
    within('record', () => 512, freeSpace),
    chunk.map((c) => ({ kind: 'zeroChunk' as const, chunk: c })),
  );
}

describe('EVTX reader under corruption (seeded property test)', () => {
  // The CC0 fixture always (a fresh clone has it); a Sysmon recording of the corpus when present.
  const samples = [
    path.join(FIXTURES, 'evtx', 'security-4688-tchopper.evtx'),
    ...(HAS_DATA
      ? [path.join(DATA, 'evtx-attack-samples/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx')]
      : []),
  ];
  for (const [i, sample] of samples.entries()) {
    it(`never throws, never hangs, reports the damage and keeps untouched chunks: ${path.basename(sample)}`, async () => {
      const original = base(sample, 3);
      const baseline = await read(original);
      expect(baseline.problems).toEqual([]);
      const baselineChunks = byChunk(baseline.events);
      expect(baselineChunks.size).toBe(3);
      let cases = 0;
      await fc.assert(
        fc.asyncProperty(mutations(original), async (m) => {
          cases++;
          const { out, touched } = apply(original, m);
          const { events, problems } = await read(out);
          expect(problems.length, JSON.stringify(m)).toBeGreaterThan(0);
          const got = byChunk(events);
          for (const [c, json] of baselineChunks)
            if (!touched.has(c)) expect(got.get(c), `chunk ${c} after ${JSON.stringify(m)}`).toBe(json);
        }),
        { numRuns: 1_050, seed: 20261123 + i },
      );
      expect(cases).toBeGreaterThanOrEqual(1_050);
    });
  }

  it('with --recover, garbage anywhere (slack included) never throws or hangs', async () => {
    const original = base(samples[0], 3);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: original.length - 1 }),
        fc.uint8Array({ minLength: 1, maxLength: 4096 }),
        async (at, garbage) => {
          const out = Buffer.from(original);
          Buffer.from(garbage).copy(out, at);
          await read(out, true);
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });
});
