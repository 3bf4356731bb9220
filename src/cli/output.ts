/** Writing to stdout with back-pressure, and stopping quietly when the reader goes away (`| head`). */
import { once } from 'node:events';

let closed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') {
    closed = true;
    return;
  }
  throw err;
});

export function stdoutClosed(): boolean {
  return closed;
}

export async function write(text: string): Promise<void> {
  if (closed) return;
  if (!process.stdout.write(text))
    await Promise.race([once(process.stdout, 'drain'), once(process.stdout, 'close')]);
}
