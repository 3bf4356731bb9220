/**
 * The events `lotl ingest` put in the server's database before it ran: stored, counted and given to
 * the correlate stage, but no detection of the server's has seen them. Once the server listens, they
 * are read in the order they went in, a chunk at a time, run through the live detections, and
 * committed as a batch that numbers them (no copy) and stores their alerts and KQL rows, as an
 * upload's batch does. A chunk is one transaction: a stop in the middle leaves the rest unnumbered,
 * and the next start carries on from there.
 */
import { normalize } from '../normalize/normalize.js';
import type { LiveDetection } from './live.js';
import type { ServerStore } from './store.js';

/** Events detected and committed together. */
export const ADOPT_CHUNK = 5_000;

export interface Adoption {
  /** Events detected and numbered so far, and the alerts they raised. */
  events: number;
  alerts: number;
  done: boolean;
}

export class IngestedEvents {
  readonly state: Adoption = { events: 0, alerts: 0, done: false };
  private stopping = false;
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: ServerStore,
    private readonly live: LiveDetection,
  ) {}

  /** Starts the detection of the events lotl ingest stored; `told` hears of progress and the end. */
  start(total: number, told: (message: string) => void): void {
    const read = this.store.undetectedEvents?.bind(this.store);
    if (!read || total === 0) {
      this.state.done = true;
      return;
    }
    this.running = (async () => {
      let lastTold = 0;
      for await (const { rowids, events } of read(ADOPT_CHUNK)) {
        if (this.stopping) return;
        const result = await this.live.commit(this.store, {
          id: `adopt:${rowids[0]}`,
          source: 'lotl ingest',
          views: events.map((e) => normalize(e)),
          stored: rowids,
        });
        if (!result.stored) continue;
        this.state.events += result.events;
        this.state.alerts += result.alerts;
        if (this.state.events - lastTold >= 100_000) {
          lastTold = this.state.events;
          told(
            `detecting lotl ingest's events: ${this.state.events.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`,
          );
        }
      }
      this.state.done = true;
      told(
        `lotl ingest's ${this.state.events.toLocaleString('en-US')} events detected: ${this.state.alerts.toLocaleString('en-US')} alerts`,
      );
    })().catch((err: Error) => {
      if (!this.stopping)
        told(`the events lotl ingest stored could not all be detected: ${err.message.split('\n')[0]}`);
    });
  }

  /** Resolves when the detection is over (tests). */
  async idle(): Promise<void> {
    await this.running;
  }

  /** On shutdown: stops after the chunk under way (the rest is detected at the next start). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }
}
