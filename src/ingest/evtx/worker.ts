/** Worker thread body: parse the chunks the pool sends, reply with events and problems. */
import { parentPort } from 'node:worker_threads';
import { type ChunkOptions, parseChunk } from './chunk.js';

parentPort?.on('message', (msg: { id: number; buf: Uint8Array; opts: ChunkOptions }) => {
  const buf = Buffer.from(msg.buf.buffer, msg.buf.byteOffset, msg.buf.byteLength);
  parentPort!.postMessage({ id: msg.id, result: parseChunk(buf, msg.opts) });
});
