/**
 * The durable store contract (consumers/runtime/durable-store.ts), the same assertions for the memory
 * store and the DynamoDB store on dynalite: claims (IN_PROGRESS with a lease, COMPLETED, release,
 * take-over of an expired lease) and the attempt streaks of rule 13.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDurableStore, type DurableRecordStore, type RecordLocation } from '../../consumers/runtime/durable-store';
import { DynamoDbDurableStore } from '../../consumers/runtime/dynamodb-durable-store';
import { createLedgerTable, startDynalite, type EmbeddedDynamoDb } from '../support/dynalite';

let dynamo: EmbeddedDynamoDb;
let tables = 0;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

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
    const tableName = `durable-${++tables}`;
    await createLedgerTable(dynamo.client(), tableName);
    const make = () => new DynamoDbDurableStore({ client: dynamo.client(), tableName, clock: () => new Date(clock.now) });
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
