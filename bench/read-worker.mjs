/** One measurement of bench/read.mjs, in its own process so peak RSS is its own. */
import { createReadStream, readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { readInputs } from '../dist/ingest/read.js';
import { normalize } from '../dist/normalize/normalize.js';

const [mode, file] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
let events = 0;
let touched = 0;

if (mode === 'naive') {
  const dec = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    const text = carry + dec.write(chunk);
    let pos = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', pos)) {
      if (nl > pos) {
        JSON.parse(text.slice(pos, nl));
        events++;
      }
      pos = nl + 1;
    }
    carry = text.slice(pos);
  }
} else {
  for await (const batch of readInputs([file])) {
    for (const item of batch) {
      if (item.kind !== 'event') continue;
      events++;
      if (mode === 'normalize') {
        // Profile recognition and the logsources the event serves: what routing to rules needs.
        const view = normalize(item.event);
        touched += view.logsources().length;
      } else if (mode === 'view') {
        // Also resolve every Sigma field the profile names (more than any one rule touches).
        const view = normalize(item.event);
        touched += Object.keys(view.sigmaFields()).length;
      }
    }
  }
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
// VmHWM, not getrusage: a child's ru_maxrss starts from its parent's size at fork on Linux.
const status = readFileSync('/proc/self/status', 'utf8');
const rssMb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
console.log(JSON.stringify({ mode, events, ms, rssMb, touched }));
