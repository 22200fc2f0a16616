/**
 * consumers/runtime/dynamodb-durable-store.ts on dynalite, beyond the shared contract of
 * durable-store.test.ts: the TTL attribute written (epoch seconds, DynamoDB "Time to Live"), the
 * ConditionalCheckFailedException branch (a new failure signature restarts the count) versus every
 * other error (propagated, never turned into a reset), and isCompleted's strongly consistent read.
 * Commands are observed with a middleware on the client; faults are scheduled there too.
 */
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { locationKey, type RecordLocation } from '../../consumers/runtime/durable-store';
import { DEFAULT_DURABLE_RETENTION_SECONDS, DynamoDbDurableStore, eventKey } from '../../consumers/runtime/dynamodb-durable-store';
import { useDynalite } from '../support/dynalite';

const dynalite = useDynalite('durable-extra');

/** 2026-12-02T00:00:01.500Z: half a second past a whole second, so the rounding up shows. */
const CLOCK_MS = Date.UTC(2026, 11, 2) + 1_500;
const location: RecordLocation = {
  streamArn: 'arn:aws:kinesis:eu-west-1:111111111111:stream/orders',
  shardId: 'shardId-000000000000',
  sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
  subSequenceNumber: undefined,
};
const attemptKey = { ledgerKey: { S: `attempt|${locationKey(location)}` } };

interface Sent {
  readonly name: string;
  readonly input: Record<string, unknown>;
}

/** Records the name and input of every command the client sends. */
function recordCommands(client: DynamoDBClient): Sent[] {
  const sent: Sent[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ name: context.commandName ?? '?', input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  return sent;
}

const table = (): Promise<string> => dynalite.newLedgerTable();

async function readItem(tableName: string, key: Record<string, { S: string }>) {
  return (await dynalite.db().client().send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
}

describe('DynamoDbDurableStore on dynalite', () => {
  it('the default retention is eight days in seconds (longer than Kinesis\' seven-day extended retention)', () => {
    expect(DEFAULT_DURABLE_RETENTION_SECONDS).toBe(691_200);
  });

  it('recordFailure writes expiresAt = ceil(clock in seconds) + retention, on the update and on the reset', async () => {
    const tableName = await table();
    const clock = { now: CLOCK_MS };
    const store = new DynamoDbDurableStore({ client: dynalite.db().client(), tableName, clock: () => new Date(clock.now) });
    expect(await store.recordFailure(location, 'Error: x', false)).toEqual({ attempts: 1, isolated: false });
    expect(await readItem(tableName, attemptKey)).toStrictEqual({
      ...attemptKey,
      failureSignature: { S: 'Error: x' },
      attempts: { N: '1' },
      isolated: { BOOL: false },
      expiresAt: { N: String(1_796_169_602 + 691_200) },
    });
    // Same signature: attempts and isolation come back from the UpdateItem result (ALL_NEW).
    clock.now = CLOCK_MS + 10_000;
    expect(await store.recordFailure(location, 'Error: x', true)).toEqual({ attempts: 2, isolated: true });
    expect((await readItem(tableName, attemptKey))?.['expiresAt']).toStrictEqual({ N: String(1_796_169_612 + 691_200) });
    // A different signature: the conditional update fails, the item is replaced with attempts = 1.
    clock.now = CLOCK_MS + 20_000;
    expect(await store.recordFailure(location, 'Error: y', false)).toEqual({ attempts: 1, isolated: false });
    expect(await readItem(tableName, attemptKey)).toStrictEqual({
      ...attemptKey,
      failureSignature: { S: 'Error: y' },
      attempts: { N: '1' },
      isolated: { BOOL: false },
      expiresAt: { N: String(1_796_169_622 + 691_200) },
    });
  });

  it('a configured retention replaces the default in expiresAt', async () => {
    const tableName = await table();
    const store = new DynamoDbDurableStore({ client: dynalite.db().client(), tableName, retentionSeconds: 3_600, clock: () => new Date(CLOCK_MS) });
    await store.recordFailure(location, 'Error: x', false);
    expect((await readItem(tableName, attemptKey))?.['expiresAt']).toStrictEqual({ N: String(1_796_169_602 + 3_600) });
  });

  it('a new signature resets the count through ConditionalCheckFailedException: UpdateItem, then PutItem', async () => {
    const tableName = await table();
    const client = dynalite.db().client();
    const sent = recordCommands(client);
    const store = new DynamoDbDurableStore({ client, tableName, clock: () => new Date(CLOCK_MS) });
    await store.recordFailure(location, 'Error: x', false);
    await store.recordFailure(location, 'Error: x', false);
    sent.length = 0;
    expect(await store.recordFailure(location, 'Error: y', true)).toEqual({ attempts: 1, isolated: true });
    expect(sent.map((s) => s.name)).toEqual(['UpdateItemCommand', 'PutItemCommand']);
    expect((await readItem(tableName, attemptKey))?.['attempts']).toStrictEqual({ N: '1' });
  });

  it('a ConditionalCheckFailedException that is not an instance of this SDK copy\'s class is recognised by its name', async () => {
    const tableName = await table();
    const client = dynalite.db().client();
    // Scheduled fault: dynalite's conditional failure, rethrown as a plain Error with the same name
    // (what another bundled copy of the SDK would produce: instanceof fails, the name does not).
    client.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
          throw Object.assign(new Error(error.message), { name: 'ConditionalCheckFailedException' });
        }
      },
      { step: 'initialize', name: 'foreignConditionalCheckFailed' },
    );
    const store = new DynamoDbDurableStore({ client, tableName, clock: () => new Date(CLOCK_MS) });
    await store.recordFailure(location, 'Error: x', false);
    expect(await store.recordFailure(location, 'Error: y', false)).toEqual({ attempts: 1, isolated: false });
    expect((await readItem(tableName, attemptKey))?.['failureSignature']).toStrictEqual({ S: 'Error: y' });
  });

  it('any other error propagates and resets nothing (missing table: ResourceNotFoundException, no PutItem)', async () => {
    const client = dynalite.db().client();
    const sent = recordCommands(client);
    const store = new DynamoDbDurableStore({ client, tableName: 'no-such-table', clock: () => new Date(CLOCK_MS) });
    await expect(store.recordFailure(location, 'Error: x', false)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(sent.map((s) => s.name)).toEqual(['UpdateItemCommand']);
  });

  it('isCompleted reads strongly consistently and is true only for a COMPLETED item', async () => {
    const tableName = await table();
    const client = dynalite.db().client();
    const sent = recordCommands(client);
    const store = new DynamoDbDurableStore({ client, tableName, clock: () => new Date(CLOCK_MS) });

    expect(await store.isCompleted('missing')).toBe(false);
    expect(sent).toStrictEqual([
      { name: 'GetItemCommand', input: { TableName: tableName, Key: { ledgerKey: { S: 'event|missing' } }, ConsistentRead: true } },
    ]);

    // An item under the event key without a status attribute (e.g. written by hand): not completed.
    await dynalite.db().client().send(new PutItemCommand({ TableName: tableName, Item: { ledgerKey: { S: eventKey('no-status') }, note: { S: 'x' } } }));
    expect(await store.isCompleted('no-status')).toBe(false);

    const claimed = await store.claim('e-1', 60_000);
    if (claimed.outcome !== 'claimed') throw new Error(`expected a claim, got ${claimed.outcome}`);
    expect(await store.isCompleted('e-1')).toBe(false); // IN_PROGRESS
    await store.complete(claimed.claim);
    expect(await store.isCompleted('e-1')).toBe(true);
  });
});
