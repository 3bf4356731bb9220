/** Worker thread body for `lotl ioc scan`: hash the files it is sent, streaming, reply per file. */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';

export interface HashJob {
  id: number;
  path: string;
  algorithms: string[];
}

export interface HashResult {
  id: number;
  size?: number;
  hashes?: Record<string, string>;
  error?: string;
}

const BUFFER = Buffer.allocUnsafe(1 << 20);

export async function hashFile(
  path: string,
  algorithms: string[],
): Promise<{ size: number; hashes: Record<string, string> }> {
  const hashers = algorithms.map((a) => createHash(a));
  // O_NONBLOCK keeps a FIFO that appeared after the walk from blocking the scan forever.
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let size = 0;
  try {
    if (!(await fh.stat()).isFile()) throw new Error('not a regular file (changed since the walk)');
    for (;;) {
      const { bytesRead } = await fh.read(BUFFER, 0, BUFFER.length, null);
      if (bytesRead === 0) break;
      size += bytesRead;
      const view = BUFFER.subarray(0, bytesRead);
      for (const h of hashers) h.update(view);
    }
  } finally {
    await fh.close();
  }
  const hashes: Record<string, string> = {};
  algorithms.forEach((a, i) => {
    hashes[a] = hashers[i].digest('hex');
  });
  return { size, hashes };
}

parentPort?.on('message', async (job: HashJob) => {
  try {
    const r = await hashFile(job.path, job.algorithms);
    parentPort!.postMessage({ id: job.id, ...r } satisfies HashResult);
  } catch (err) {
    parentPort!.postMessage({ id: job.id, error: (err as Error).message } satisfies HashResult);
  }
});
