/** Worker thread body: parse the chunks the pool sends (and run their stage), reply in JSON text. */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { Stage } from '../raw-event.js';
import { applyStage, type ChunkOptions, parseChunk } from './chunk.js';

/** Results go to the pool's own channel (which it can poll), else to the parent. */
const results: MessagePort | null = (workerData as { results?: MessagePort } | null)?.results ?? parentPort;

parentPort?.on('message', async (msg: { id: number; buf: Uint8Array; opts: ChunkOptions; warm?: Stage }) => {
  if (msg.warm) {
    // Set the stage up (a hunt's rules load here) while the main thread prepares its own.
    await applyStage({ events: [], xml: null, problems: [], empty: false }, msg.warm);
    return;
  }
  const buf = Buffer.from(msg.buf.buffer, msg.buf.byteOffset, msg.buf.byteLength);
  const result = await applyStage(parseChunk(buf, msg.opts), msg.opts.stage);
  // JSON text crosses threads faster than a structured clone of thousands of small objects; a
  // stage's output is already text and travels as it is. One text per event: the strings JSON.parse
  // makes share their source text, so an event kept (an alert's) keeps its own text alive, not
  // the whole chunk's.
  const { staged, events, ...rest } = result;
  results!.postMessage({
    id: msg.id,
    json: JSON.stringify(rest),
    events: events.map((e) => JSON.stringify(e)),
    staged,
  });
});
