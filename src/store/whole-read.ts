/**
 * A streamed read of a store checked against the count the store gave first: DuckDB's stream can
 * end quietly when a chunk fails, and a read cut short must be an error, not the end.
 */
export async function* wholeRead<T>(want: number, batches: AsyncIterable<T[]>): AsyncGenerator<T[]> {
  let got = 0;
  for await (const batch of batches) {
    got += batch.length;
    yield batch;
  }
  if (got !== want) throw new Error(`the store gave ${got} of its ${want} events: read again`);
}
