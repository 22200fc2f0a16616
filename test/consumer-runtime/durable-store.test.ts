/**
 * The durable store contract (consumers/runtime/durable-store.ts), the same assertions for the memory
 * store and the DynamoDB store on dynalite: claims (IN_PROGRESS with a lease, COMPLETED, release,
 * take-over of an expired lease) and the attempt streaks of rule 13.
 */
import { describe, expect, it } from 'vitest';
import { MemoryDurableStore, locationKey, type DurableRecordStore, type RecordLocation } from '../../consumers/runtime/durable-store';
import { DynamoDbDurableStore } from '../../consumers/runtime/dynamodb-durable-store';
import { useDynalite } from '../support/dynalite';

const dynalite = useDynalite('durable');

/** Two containers sharing one store (one table), on a clock the test moves. */
interface Pair {
  a: DurableRecordStore;
  b: DurableRecordStore;
  clock: { now: number };
}

const stores: Record<string, () => Promise<Pair>> = {
  memory: async () => {
    const clock = { now: Date.UTC(2026, 11, 2) };
    const store = new MemoryDurableStore(1000, () => clock.now);
    return { a: store, b: store, clock };
  },
  'dynamodb (dynalite)': async () => {
    const clock = { now: Date.UTC(2026, 11, 2) };
    const tableName = await dynalite.newLedgerTable();
    const make = () => new DynamoDbDurableStore({ client: dynalite.db().client(), tableName, clock: () => new Date(clock.now) });
    return { a: make(), b: make(), clock };
  },
};

const at = (sequenceNumber: string, subSequenceNumber?: number): RecordLocation => ({
  streamArn: 'arn:aws:kinesis:eu-west-1:111111111111:stream/orders',
  shardId: 'shardId-000000000000',
  sequenceNumber,
  subSequenceNumber,
});

describe.each(Object.keys(stores))('durable store: %s', (kind) => {
  it('a claim holds the id for its lease; COMPLETED means done for everyone; a released claim can be taken again', async () => {
    const { a, b } = await stores[kind]!();
    const first = await a.claim('e1', 60_000);
    expect(first.outcome).toBe('claimed');
    const held = await b.claim('e1', 60_000);
    expect(held.outcome).toBe('in-progress');
    expect(await b.isCompleted('e1')).toBe(false);
    if (first.outcome !== 'claimed') throw new Error('unreachable');
    await a.complete(first.claim);
    expect(await b.claim('e1', 60_000)).toEqual({ outcome: 'completed' });
    expect(await b.isCompleted('e1')).toBe(true);

    const second = await a.claim('e2', 60_000);
    if (second.outcome !== 'claimed') throw new Error('expected a claim');
    await a.release(second.claim);
    expect((await b.claim('e2', 60_000)).outcome).toBe('claimed');
  });

  it('an in-progress claim whose lease expired (its holder died) is taken over; the dead holder cannot release it', async () => {
    const { a, b, clock } = await stores[kind]!();
    const dead = await a.claim('e3', 1_000);
    clock.now += 1_001;
    const taken = await b.claim('e3', 60_000);
    expect(taken.outcome).toBe('claimed');
    if (dead.outcome !== 'claimed' || taken.outcome !== 'claimed') throw new Error('expected claims');
    await a.release(dead.claim);
    expect((await a.claim('e3', 60_000)).outcome).toBe('in-progress');
  });

  it('counts consecutive failed deliveries per record location and signature; a new signature starts again; isolation sticks for the streak', async () => {
    const { a, b } = await stores[kind]!();
    expect(await a.recordFailure(at('1'), 'Error: x', false)).toEqual({ attempts: 1, isolated: false });
    expect(await b.recordFailure(at('1'), 'Error: x', true)).toEqual({ attempts: 2, isolated: true });
    expect(await a.recordFailure(at('1'), 'Error: x', false)).toEqual({ attempts: 3, isolated: true });
    expect(await a.recordFailure(at('1', 0), 'Error: x', false)).toEqual({ attempts: 1, isolated: false });
    expect(await a.recordFailure(at('1'), 'Error: y', false)).toEqual({ attempts: 1, isolated: false });
    expect(await a.recordFailure(at('2'), 'Error: x', false)).toEqual({ attempts: 1, isolated: false });
  });
});

describe('MemoryDurableStore (one container): the lease boundary, the bound on its maps, the location key', () => {
  const start = Date.UTC(2026, 11, 2);

  it('a lease ends at leaseUntil: one millisecond before it the claim is held, at it the claim can be taken over', async () => {
    const clock = { now: start };
    const store = new MemoryDurableStore(10, () => clock.now);
    const first = await store.claim('e-1', 1000);
    expect(first.outcome).toBe('claimed');
    clock.now = start + 999;
    expect(await store.claim('e-1', 1000)).toEqual({ outcome: 'in-progress', leaseUntil: new Date(start + 1000) });
    clock.now = start + 1000;
    const second = await store.claim('e-1', 1000);
    expect(second.outcome).toBe('claimed');
    // Two claims of one event never share a token: the dead holder's complete or release is a no-op.
    if (first.outcome !== 'claimed' || second.outcome !== 'claimed') throw new Error('unreachable');
    expect(second.claim.token).not.toBe(first.claim.token);
    await store.complete(first.claim);
    expect(await store.isCompleted('e-1')).toBe(false);
  });

  it('release gives back only an IN_PROGRESS claim: after complete, the event stays done', async () => {
    const store = new MemoryDurableStore(10, () => start);
    const claimed = await store.claim('e-1', 1000);
    if (claimed.outcome !== 'claimed') throw new Error(`expected a claim, got ${claimed.outcome}`);
    await store.complete(claimed.claim);
    await store.release(claimed.claim);
    expect(await store.isCompleted('e-1')).toBe(true);
    expect(await store.claim('e-1', 1000)).toEqual({ outcome: 'completed' });
  });

  it('keeps at most maxEntries claims, dropping the least recently claimed first', async () => {
    const store = new MemoryDurableStore(2, () => start);
    for (const id of ['e-1', 'e-2']) {
      const claimed = await store.claim(id, 60_000);
      if (claimed.outcome === 'claimed') await store.complete(claimed.claim);
    }
    // Exactly maxEntries: both kept.
    expect([await store.isCompleted('e-1'), await store.isCompleted('e-2')]).toEqual([true, true]);
    await store.claim('e-3', 60_000);
    // One over: the oldest (e-1) is forgotten, the two newest are kept.
    expect([await store.isCompleted('e-1'), await store.isCompleted('e-2')]).toEqual([false, true]);
    expect((await store.claim('e-3', 60_000)).outcome).toBe('in-progress');
  });

  it('keeps at most maxEntries attempt streaks, dropping the least recently failed first', async () => {
    const store = new MemoryDurableStore(2, () => start);
    await store.recordFailure(at('1'), 'sig', false);
    await store.recordFailure(at('2'), 'sig', false);
    // Record 1 failed again, so record 2 is now the least recently failed.
    expect((await store.recordFailure(at('1'), 'sig', false)).attempts).toBe(2);
    await store.recordFailure(at('3'), 'sig', false);
    expect((await store.recordFailure(at('1'), 'sig', false)).attempts).toBe(3);
    expect((await store.recordFailure(at('2'), 'sig', false)).attempts).toBe(1);
  });

  it('a user record of an aggregate has its own streak: the key carries the sub-sequence number, empty for a plain record', async () => {
    expect(locationKey(at('7'))).toBe('arn:aws:kinesis:eu-west-1:111111111111:stream/orders|shardId-000000000000|7|');
    expect(locationKey(at('7', 0))).toBe('arn:aws:kinesis:eu-west-1:111111111111:stream/orders|shardId-000000000000|7|0');
    expect(locationKey(at('7', 3))).toBe('arn:aws:kinesis:eu-west-1:111111111111:stream/orders|shardId-000000000000|7|3');
    const store = new MemoryDurableStore(10, () => start);
    await store.recordFailure(at('7', 0), 'sig', false);
    expect((await store.recordFailure(at('7', 1), 'sig', false)).attempts).toBe(1);
    expect((await store.recordFailure(at('7'), 'sig', false)).attempts).toBe(1);
    expect((await store.recordFailure(at('7', 0), 'sig', false)).attempts).toBe(2);
  });
});
