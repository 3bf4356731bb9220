/**
 * CSV with a header row: Defender portal exports, Sentinel exports and flat event tables. Each row
 * becomes an object keyed by the header and is then classified like a JSON object. A row that does
 * not parse (wrong field count, broken quoting) is reported with its line; the rest is read.
 */
import { Readable } from 'node:stream';
import { type CsvError, parse } from 'csv-parse';

export type CsvPiece = { line: number; row: Record<string, string> } | { line: number; error: string };

export async function* splitCsvRows(
  text: AsyncIterable<string>,
  delimiter: string,
): AsyncGenerator<CsvPiece[]> {
  const skipped: CsvPiece[] = [];
  const parser = parse({
    columns: (header: string[]) => header.map((h) => h.trim()),
    delimiter,
    bom: true,
    info: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    relax_quotes: false,
  });
  parser.on('skip', (err: CsvError) => {
    skipped.push({ line: (err as CsvError & { lines?: number }).lines ?? 0, error: err.message });
  });
  Readable.from(text).pipe(parser);
  let batch: CsvPiece[] = [];
  for await (const item of parser as AsyncIterable<{
    record: Record<string, string>;
    info: { lines: number };
  }>) {
    if (skipped.length > 0) batch.push(...skipped.splice(0));
    batch.push({ line: item.info.lines, row: dropEmpty(item.record) });
    if (batch.length >= 512) {
      yield batch;
      batch = [];
    }
  }
  if (skipped.length > 0) batch.push(...skipped.splice(0));
  if (batch.length > 0) yield batch;
}

/** An empty cell is a missing value (Defender writes "" for null columns). */
function dropEmpty(row: Record<string, string>): Record<string, string> {
  for (const key of Object.keys(row)) if (row[key] === '') delete row[key];
  return row;
}
