/**
 * CSV with a header row: Defender portal exports, Sentinel exports and flat event tables. Each row
 * becomes an object keyed by the header and is then classified like a JSON object. A row that does
 * not parse (wrong field count, broken quoting) is reported with its line; the rest is read.
 */
import { Readable } from 'node:stream';
import { type CsvError, parse } from 'csv-parse';

/** The longest CSV record read, in characters. */
export const MAX_CSV_RECORD = 16 * 1024 * 1024;

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
    // A record past this is no log line (an unterminated quote swallowing the file): reading
    // stops there with a located problem instead of holding gigabytes.
    max_record_size: MAX_CSV_RECORD,
  });
  const source = Readable.from(text);
  let stopped = false;
  parser.on('skip', (err: CsvError) => {
    if (stopped) return;
    const line = (err as CsvError & { lines?: number }).lines ?? 0;
    if (err.code === 'CSV_MAX_RECORD_SIZE') {
      // Whatever follows is inside the runaway field: nothing more can be read as rows.
      stopped = true;
      skipped.push({
        line,
        error: `a record longer than ${MAX_CSV_RECORD / 1024 / 1024} MB (an unterminated quote?): the rest of the file is not read`,
      });
      source.destroy();
      parser.destroy();
      return;
    }
    skipped.push({ line, error: err.message });
  });
  source.pipe(parser);
  let batch: CsvPiece[] = [];
  try {
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
  } catch (err) {
    if (!stopped) throw err;
  }
  if (skipped.length > 0) batch.push(...skipped.splice(0));
  if (batch.length > 0) yield batch;
}

/** An empty cell is a missing value (Defender writes "" for null columns). */
function dropEmpty(row: Record<string, string>): Record<string, string> {
  for (const key of Object.keys(row)) if (row[key] === '') delete row[key];
  return row;
}
