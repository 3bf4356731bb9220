/**
 * The incidents, unusual sign-ins and accounts to reset of what the store holds: the correlate
 * stage fed by a replay of the stored events and alerts in time order (as a hunt feeds it), kept
 * until the next commit changes the data.
 */
import type { Answers } from '../correlate/correlator.js';
import { Correlator } from '../correlate/correlator.js';
import type { Alert } from '../detect/alert.js';
import { normalize } from '../normalize/normalize.js';
import type { ServerStore } from './store.js';

export interface ServerAnswers extends Answers {
  /** The correlate stage's own alerts (bursts of discovery). */
  correlationAlerts: Alert[];
  /** The store's version they were computed at. */
  version: number;
}

export class AnswersCache {
  private cached: Promise<ServerAnswers> | null = null;
  private version = -1;

  constructor(
    private readonly store: ServerStore,
    private readonly options: { internal?: string[] } = {},
  ) {}

  get(): Promise<ServerAnswers> {
    if (this.cached && this.version === this.store.version) return this.cached;
    this.version = this.store.version;
    this.cached = this.compute(this.version);
    this.cached.catch(() => {
      this.cached = null;
    });
    return this.cached;
  }

  private async compute(version: number): Promise<ServerAnswers> {
    const correlator = new Correlator(this.options.internal ? { internal: this.options.internal } : {});
    for await (const { event, alerts, fed } of this.store.replay()) {
      const view = event ? normalize(event) : undefined;
      if (view && !fed) correlator.event(view);
      for (const a of alerts) correlator.alert(a, view);
    }
    const correlationAlerts = correlator.correlationAlerts();
    return { ...correlator.answers(), correlationAlerts, version };
  }
}
