/**
 * The webhook sender against a real HTTP receiver on loopback: a retried batch keeps its delivery
 * id and carries a signature the receiver can check; without a secret there is no signature; a
 * receiver that is down does not hold the sender (the queue is bounded, its losses counted).
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { WEBHOOK_QUEUE, Webhook } from '../../src/server/webhooks.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

let receiver: Server | undefined;

/** A receiver answering each request with the next status of `statuses` (then 200). */
async function listen(statuses: number[]): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver?.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`, got };
}

afterEach(() => {
  receiver?.close();
  receiver = undefined;
});

const alert = (title: string) => ({ title, level: 'high' }) as unknown as Alert;

describe('webhooks', () => {
  it('retries a refused batch under the same delivery id, each attempt signed', async () => {
    const { url, got } = await listen([500]);
    const hook = new Webhook(url, undefined, 's3cret');
    hook.post([alert('first')]);
    hook.post([alert('second')]);
    await hook.idle();
    expect(got).toHaveLength(3);
    expect(hook).toMatchObject({ delivered: 2, failed: 0, dropped: 0 });
    const ids = got.map((g) => g.headers['x-lotl-delivery']);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
    for (const g of got) {
      const mac = createHmac('sha256', 's3cret').update(`${g.headers['x-lotl-timestamp']}.${g.body}`);
      expect(g.headers['x-lotl-signature']).toBe(`sha256=${mac.digest('hex')}`);
    }
    expect(JSON.parse(got[2].body)).toEqual([alert('second')]);
  }, 20_000);

  it('sends no signature without a secret', async () => {
    const { url, got } = await listen([]);
    const hook = new Webhook(url);
    hook.post([alert('one')]);
    await hook.idle();
    expect(got).toHaveLength(1);
    expect(got[0].headers['x-lotl-signature']).toBeUndefined();
    expect(got[0].headers['x-lotl-delivery']).toBeDefined();
  });

  it('keeps a bounded queue for a receiver that is down, and counts what it lost', async () => {
    const failures: string[] = [];
    // Nothing listens on this port: every attempt is refused at once.
    const { url } = await listen([]);
    await new Promise<void>((r) => receiver?.close(() => r()));
    const hook = new Webhook(url, (m) => failures.push(m));
    for (let i = 0; i < WEBHOOK_QUEUE + 5; i++) hook.post([alert(`a${i}`)]);
    // The first batch is being sent; the queue holds at most WEBHOOK_QUEUE of the rest.
    expect(hook.dropped).toBeGreaterThanOrEqual(4);
    expect(hook.dropped).toBeLessThanOrEqual(5);
    // A shutdown gives up on the rest at once, counts it, and takes no more.
    const left = await hook.close(0);
    expect(left).toBeGreaterThanOrEqual(WEBHOOK_QUEUE);
    expect(hook.dropped).toBeGreaterThanOrEqual(WEBHOOK_QUEUE + 4);
    hook.post([alert('late')]);
    await hook.idle();
    expect(hook.delivered).toBe(0);
  });

  it('refuses a hook that is not http or https', () => {
    expect(() => new Webhook('file:///etc/passwd')).toThrow(/http or https/);
  });
});
