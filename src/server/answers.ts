/**
 * The incidents, unusual sign-ins and accounts to reset of what the store holds: one correlate
 * stage for the server's life. When the server starts it is given every stored event and alert
 * (a replay, before the server takes any batch); then each batch once it is stored. Asking costs
 * the answers' own work (the alerts kept, the sign-ins seen), not a new read of the store; the
 * answers are kept until the next batch changes the data.
 */
import type { Answers } from '../correlate/correlator.js';
import { Correlator } from '../correlate/correlator.js';
import type { SigninOptions } from '../correlate/signins.js';
import type { Alert } from '../detect/alert.js';
import { normalize } from '../normalize/normalize.js';
import type { LiveDetection } from './live.js';
import type { ServerStore } from './store.js';

export interface ServerAnswers extends Answers {
  /** The correlate stage's own alerts (bursts of discovery). */
  correlationAlerts: Alert[];
  /** The store's version they were computed at. */
  version: number;
}

export class LiveAnswers {
  private readonly correlator: Correlator;
  private cached: ServerAnswers | null = null;
  private loaded = false;

  constructor(
    private readonly store: ServerStore,
    live: LiveDetection,
    options: SigninOptions = {},
  ) {
    this.correlator = new Correlator(options);
    live.onStored((views, alerts, newEvents) => {
      if (newEvents) for (const view of views) this.correlator.event(view);
      for (const { alert, event } of alerts)
        this.correlator.alert(alert, event === null ? undefined : views[event]);
    });
  }

  /**
   * Gives the correlate stage what the store holds: called once, before the server takes any
   * batch (a batch stored meanwhile would be counted twice). `progress` hears of events read.
   */
  async load(progress: (events: number) => void = () => undefined): Promise<number> {
    if (this.loaded) throw new Error('the stored events were given already');
    this.loaded = true;
    let events = 0;
    for await (const { event, alerts, fed } of this.store.replay()) {
      const view = event ? normalize(event) : undefined;
      if (view && !fed) {
        this.correlator.event(view);
        if (++events % 500_000 === 0) progress(events);
      }
      for (const a of alerts) this.correlator.alert(a, view);
    }
    return events;
  }

  get(): Promise<ServerAnswers> {
    const version = this.store.version;
    if (this.cached?.version !== version) {
      const { answers, bursts } = this.correlator.answersNow();
      this.cached = { ...answers, correlationAlerts: bursts, version };
    }
    return Promise.resolve(this.cached);
  }
}
