/**
 * `hasEffect` (options.ts): the durable store claims only events with an effect. A redelivery to a
 * fresh container (empty LRU) must still skip an effect that happened, and an event without an effect
 * is simply handled again (it sends nothing). A predicate that throws claims (the safe side).
 */
import { describe, expect, it } from 'vitest';
import { InMemoryQuarantineSink, createKinesisHandler } from '../../consumers/runtime/index';
import { MemoryDurableStore, type EventClaim, type EventClaimResult } from '../../consumers/runtime/durable-store';
import { createFixtures } from '../../schemas/fixtures';
import { registry, type OrderEvent } from '../../schemas/index';
import { LogCapture, kinesisEvent, lambdaContext } from './helpers';

/** The memory store, counting what the runtime asked of it. */
class CountingStore extends MemoryDurableStore {
  readonly claimed: string[] = [];
  readonly completed: string[] = [];
  override async claim(eventId: string, leaseMs: number): Promise<EventClaimResult> {
    this.claimed.push(eventId);
    return super.claim(eventId, leaseMs);
  }
  override async complete(claim: EventClaim): Promise<void> {
    this.completed.push(claim.eventId);
    return super.complete(claim);
  }
}

const f = createFixtures({ seed: 91 });
const events: OrderEvent[] = Array.from({ length: 8 }, () => f.orderPlaced());
/** Every third order "needs review": only those cause an effect. */
const effectful = new Set(events.filter((_, i) => i % 3 === 0).map((e) => e.id));

/** One container: its own LRU, the shared durable store; effects land in `sent`, every run in `handled`. */
function container(store: CountingStore, sent: string[], handled: string[], hasEffect: (event: OrderEvent) => boolean) {
  return createKinesisHandler<OrderEvent>({
    registry,
    consumerName: 'has-effect',
    quarantine: new InMemoryQuarantineSink(),
    durableStore: store,
    hasEffect,
    metrics: false,
    logDestination: new LogCapture(),
    handlers: {
      'order.placed': (event) => {
        handled.push(event.id);
        if (effectful.has(event.id)) sent.push(event.id);
      },
    },
  });
}

describe('hasEffect: claims only what has an effect', () => {
  it('claims and completes only the effectful events; a redelivery to another container sends each effect once', async () => {
    const store = new CountingStore();
    const sent: string[] = [];
    const handled: string[] = [];
    const predicate = (event: OrderEvent) => effectful.has(event.id);
    const batch = kinesisEvent(events);

    const first = await container(store, sent, handled, predicate)(batch, lambdaContext());
    expect(first).toEqual({ batchItemFailures: [] });
    expect(store.claimed.sort()).toEqual([...effectful].sort());
    expect(store.completed.sort()).toEqual([...effectful].sort());

    // The container died before its checkpoint: the whole batch reaches a new container (empty LRU).
    const second = await container(store, sent, handled, predicate)(batch, lambdaContext());
    expect(second).toEqual({ batchItemFailures: [] });
    // Effects once each; the events without an effect ran again (harmless), the effectful ones did not.
    expect(sent.sort()).toEqual([...effectful].sort());
    expect(handled.filter((id) => effectful.has(id)).sort()).toEqual([...effectful].sort());
    expect(handled.filter((id) => !effectful.has(id))).toHaveLength(2 * (events.length - effectful.size));
    // The second container asked again for the effectful ones only, and found them COMPLETED.
    expect(store.claimed).toHaveLength(2 * effectful.size);
    expect(store.completed).toHaveLength(effectful.size);
  });

  it('without hasEffect every event is claimed', async () => {
    const store = new CountingStore();
    const handler = createKinesisHandler<OrderEvent>({
      registry,
      consumerName: 'has-effect',
      quarantine: new InMemoryQuarantineSink(),
      durableStore: store,
      metrics: false,
      logDestination: new LogCapture(),
      handlers: { 'order.placed': () => undefined },
    });
    await handler(kinesisEvent(events), lambdaContext());
    expect(store.claimed.sort()).toEqual(events.map((e) => e.id).sort());
  });

  it('a predicate that throws claims the event (the safe side) and says so in the log', async () => {
    const store = new CountingStore();
    const sent: string[] = [];
    const log = new LogCapture();
    const handler = createKinesisHandler<OrderEvent>({
      registry,
      consumerName: 'has-effect',
      quarantine: new InMemoryQuarantineSink(),
      durableStore: store,
      hasEffect: () => {
        throw new Error('rules not loaded');
      },
      metrics: false,
      logDestination: log,
      handlers: { 'order.placed': (event) => void sent.push(event.id) },
    });
    const response = await handler(kinesisEvent(events.slice(0, 3)), lambdaContext());
    expect(response).toEqual({ batchItemFailures: [] });
    expect(store.claimed.sort()).toEqual(events.slice(0, 3).map((e) => e.id).sort());
    const warnings = log.find('hasEffect threw; the event is claimed as if it had an effect');
    expect(warnings.map((w) => w['eventId']).sort()).toEqual(events.slice(0, 3).map((e) => e.id).sort());
    expect(warnings.every((w) => (w['err'] as { message: string }).message === 'rules not loaded')).toBe(true);
  });
});
