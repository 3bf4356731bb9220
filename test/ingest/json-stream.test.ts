import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type JsonPiece, JsonSplitter } from '../../src/ingest/json-stream.js';

function split(chunks: string[]): JsonPiece[] {
  const s = new JsonSplitter();
  const out: JsonPiece[] = [];
  for (const c of chunks) out.push(...s.push(c));
  out.push(...s.end());
  return out;
}

const values = (pieces: JsonPiece[]) =>
  pieces.filter((p) => 'value' in p).map((p) => (p as { value: unknown }).value);
const errors = (pieces: JsonPiece[]) =>
  pieces.filter((p) => 'error' in p) as { line: number; error: string }[];

describe('JsonSplitter', () => {
  it('reads JSON lines with their line numbers, skipping blank lines', () => {
    const out = split(['{"a":1}\n\n{"b":2}\r\n{"c":3}']);
    expect(out).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 3, value: { b: 2 } },
      { line: 4, value: { c: 3 } },
    ]);
  });

  it('reports a broken JSON line with its number and keeps reading', () => {
    const out = split(['{"a":1}\n{"b":\n{"c":3}\n']);
    expect(values(out)).toEqual([{ a: 1 }, { c: 3 }]);
    expect(errors(out).map((e) => e.line)).toEqual([2]);
  });

  it('reads concatenated pretty-printed objects (evtx_dump, SigmaHQ regression JSON)', () => {
    const text = '{\n  "Event": {\n    "x": "a } b"\n  }\n}\n{\n  "Event": {"y": [1, {"z": "\\"}"}]}\n}\n';
    const out = split([text]);
    expect(out).toEqual([
      { line: 1, value: { Event: { x: 'a } b' } } },
      { line: 6, value: { Event: { y: [1, { z: '"}' }] } } },
    ]);
  });

  it('reads a top-level array element by element', () => {
    const out = split(['[\n {"a": 1},\n {"b": [2]}\n]\n']);
    expect(out).toEqual([
      { line: 2, value: { a: 1 } },
      { line: 3, value: { b: [2] } },
    ]);
  });

  it('recovers from an unterminated string in pretty-printed input at the next object', () => {
    const text = '{\n "a": 1\n}\n{\n "b": "oops\n "c": 2\n}\n{\n "d": 4\n}\n';
    const out = split([text]);
    expect(values(out)).toEqual([{ a: 1 }, { d: 4 }]);
    expect(errors(out)).toHaveLength(1);
    expect(errors(out)[0].line).toBe(4);
  });

  it('reports a value truncated at the end of input', () => {
    const out = split(['{\n "a": 1\n}\n{\n "b": [1, 2']);
    expect(values(out)).toEqual([{ a: 1 }]);
    expect(errors(out)).toEqual([{ line: 4, error: 'truncated JSON value at end of input' }]);
  });

  it('gives the same values however the text is chunked (property)', () => {
    const docs = [
      '{"a":1}\n{"b":"x\\ny"}\n{"c":[1,2,{"d":"}"}]}\n',
      '[{"a":1},\n{"b":2}]',
      '{\n "Event": {"System": {"EventID": 1}}\n}\n{\n "Event": {}\n}',
      '{"ü":"日本"}\n{"x":"\\u00e9"}',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...docs), fc.array(fc.nat(), { maxLength: 8 }), (doc, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (doc.length + 1)))].sort((a, b) => a - b);
        const chunks: string[] = [];
        let prev = 0;
        for (const p of points) {
          chunks.push(doc.slice(prev, p));
          prev = p;
        }
        chunks.push(doc.slice(prev));
        expect(split(chunks)).toEqual(split([doc]));
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});
