/**
 * Compiles KQL hunting queries on a thread of its own (see loadKqlHuntsApart): Kusto's language
 * service stays in this thread's memory, which is returned when it ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadKqlHunts } from './hunts.js';

const { paths } = workerData as { paths: string[] };
const { hunts, problems } = loadKqlHunts(paths);
parentPort?.postMessage({
  // Hunts with prepare steps carry functions, which cannot cross threads: compiled again by the caller.
  hunts: hunts.filter((h) => h.compiled.prepares.length === 0),
  redo: hunts.filter((h) => h.compiled.prepares.length > 0).map((h) => h.file),
  order: hunts.map((h) => h.file),
  problems,
});
