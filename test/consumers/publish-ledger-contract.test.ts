/**
 * One contract, three PublishLedger implementations: in memory, files (local runner), DynamoDB (dynalite,
 * a real emulator). "Another container / worker" is a new ledger instance over the same store (the same
 * instance for the in-memory ledger, whose store is the instance). Time is a controllable clock: a lease
 * expires because the clock moves, never because a test waits.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbPublishLedger } from '../../consumers/order-metrics/dynamodb-publish-ledger';
import { FilePublishLedger } from '../../consumers/order-metrics/file-publish-ledger';
import { WindowClaimHeldError, publishOnce } from '../../consumers/order-metrics/publish-once';
import { ClaimLostError, DEFAULT_LEASE_MS, InMemoryPublishLedger, type Claim, type ClaimResult, type PublishLedger } from '../../consumers/order-metrics/publish-ledger';
import { createLedgerTable, startDynalite, type EmbeddedDynamoDb } from '../support/dynalite';

const KEY = 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders|shardId-000000000000|2026-03-02T10:00:00Z|2026-03-02T10:01:00Z';
const LEASE_MS = 60_000;

/** A clock shared by every ledger of one store: `advance` moves all of them. */
class TestClock {
  private ms = Date.parse('2026-03-02T10:01:05Z');
  readonly now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

interface Store {
  /** A ledger as one container/worker sees the shared store. */
  ledger(): PublishLedger;
  clock: TestClock;
}

let db: EmbeddedDynamoDb;
let dataRoot: string;
let stores = 0;

beforeAll(async () => {
  db = await startDynalite();
  dataRoot = await mkdtemp(join(tmpdir(), 'publish-ledger-'));
});
afterAll(async () => {
  await db.stop();
  await rm(dataRoot, { recursive: true, force: true });
});

const implementations: [string, () => Promise<Store>][] = [
  [
    'InMemoryPublishLedger',
    async () => {
      const clock = new TestClock();
      const shared = new InMemoryPublishLedger(1024, { leaseMs: LEASE_MS, clock: clock.now });
      return { clock, ledger: () => shared };
    },
  ],
  [
    'FilePublishLedger',
    async () => {
      const clock = new TestClock();
      const dir = join(dataRoot, `store-${++stores}`);
      return { clock, ledger: () => new FilePublishLedger(dir, { leaseMs: LEASE_MS, clock: clock.now }) };
    },
  ],
  [
    'DynamoDbPublishLedger',
    async () => {
      const clock = new TestClock();
      const tableName = `contract-${++stores}`;
      await createLedgerTable(db.client(), tableName);
      return { clock, ledger: () => new DynamoDbPublishLedger({ client: db.client(), tableName, leaseMs: LEASE_MS, clock: clock.now }) };
    },
  ],
];

function claimed(result: ClaimResult): Claim {
  if (result.outcome !== 'claimed') throw new Error(`expected a claim, got ${result.outcome}`);
  return result.claim;
}

describe.each(implementations)('%s', (_name, newStore) => {
  it('claims a free key with a lease; meanwhile anyone else finds it held; once completed it is published for everyone', async () => {
    const { ledger, clock } = await newStore();
    const a = ledger();
    const claim = claimed(await a.claim(KEY));
    expect(claim.windowKey).toBe(KEY);
    expect(claim.leaseUntil.getTime() - clock.now().getTime()).toBe(LEASE_MS);
    expect(await ledger().claim(KEY)).toEqual({ outcome: 'held-by-other', leaseUntil: claim.leaseUntil });
    await a.complete(claim);
    await a.complete(claim); // a retried completion is harmless
    expect(await ledger().claim(KEY)).toEqual({ outcome: 'already-published' });
    // A completed claim is final: no lease ever expires it.
    clock.advance(10 * DEFAULT_LEASE_MS);
    expect(await ledger().claim(KEY)).toEqual({ outcome: 'already-published' });
    expect(claimed(await ledger().claim(`${KEY}-other`)).windowKey).toBe(`${KEY}-other`);
  });

  it('keeps the event ids given with the completion, for every later reader; nothing for a key not completed', async () => {
    const { ledger } = await newStore();
    const ids = Array.from({ length: 4096 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    expect(await ledger().completedEventIds(KEY)).toBeUndefined();
    const claim = claimed(await ledger().claim(KEY));
    expect(await ledger().completedEventIds(KEY)).toBeUndefined(); // in progress
    await ledger().complete(claim, { eventIds: ids });
    expect(await ledger().completedEventIds(KEY)).toEqual(ids); // order kept, the whole bounded list
    const released = claimed(await ledger().claim(`${KEY}-released`));
    await ledger().release(released);
    expect(await ledger().completedEventIds(`${KEY}-released`)).toBeUndefined();
    const bare = claimed(await ledger().claim(`${KEY}-bare`));
    await ledger().complete(bare);
    expect(await ledger().completedEventIds(`${KEY}-bare`)).toBeUndefined();
  });

  it('a released claim (failed write) can be claimed again right away', async () => {
    const { ledger } = await newStore();
    const first = claimed(await ledger().claim(KEY));
    await ledger().release(first);
    await ledger().release(first); // idempotent
    const second = claimed(await ledger().claim(KEY));
    expect(second.token).not.toBe(first.token);
    expect((await ledger().claim(KEY)).outcome).toBe('held-by-other');
  });

  it('takes over an in-progress claim whose lease expired; the dead holder can neither complete nor release it', async () => {
    const { ledger, clock } = await newStore();
    const dead = claimed(await ledger().claim(KEY, { leaseMs: 5_000 }));
    clock.advance(4_999);
    expect((await ledger().claim(KEY)).outcome).toBe('held-by-other');
    clock.advance(2);
    const heir = claimed(await ledger().claim(KEY));
    expect(heir.token).not.toBe(dead.token);
    await expect(ledger().complete(dead)).rejects.toBeInstanceOf(ClaimLostError);
    await ledger().release(dead); // a no-op: the claim is the heir's
    expect((await ledger().claim(KEY)).outcome).toBe('held-by-other');
    await ledger().complete(heir);
    expect((await ledger().claim(KEY)).outcome).toBe('already-published');
  });

  it('of concurrent claims on a free key exactly one wins, for every key', async () => {
    const { ledger } = await newStore();
    const keys = Array.from({ length: 10 }, (_, i) => `${KEY}#${i}`);
    const results = await Promise.all(keys.map((key) => Promise.all([ledger().claim(key), ledger().claim(key), ledger().claim(key)])));
    for (const trio of results) {
      expect(trio.map((r) => r.outcome).sort()).toEqual(['claimed', 'held-by-other', 'held-by-other']);
    }
  });

  it('of concurrent take-overs of an expired claim exactly one wins, for every key', async () => {
    const { ledger, clock } = await newStore();
    const keys = Array.from({ length: 10 }, (_, i) => `${KEY}#${i}`);
    for (const key of keys) claimed(await ledger().claim(key));
    clock.advance(LEASE_MS + 1);
    const results = await Promise.all(keys.map((key) => Promise.all([ledger().claim(key), ledger().claim(key), ledger().claim(key)])));
    for (const trio of results) {
      expect(trio.map((r) => r.outcome).sort()).toEqual(['claimed', 'held-by-other', 'held-by-other']);
    }
  });

  it('publishOnce: held by someone else fails the publish without writing; after the lease it publishes once', async () => {
    const { ledger, clock } = await newStore();
    const writes: string[] = [];
    const write = async () => {
      writes.push('write');
    };
    claimed(await ledger().claim(KEY)); // a holder that dies before writing
    await expect(publishOnce(ledger(), KEY, {}, write)).rejects.toBeInstanceOf(WindowClaimHeldError);
    expect(writes).toEqual([]);
    clock.advance(LEASE_MS + 1);
    expect(await publishOnce(ledger(), KEY, {}, write)).toBe('published');
    expect(await publishOnce(ledger(), KEY, {}, write)).toBe('already-published');
    expect(writes).toEqual(['write']);
  });

  it('publishOnce: a failed write releases the claim, the retry publishes', async () => {
    const { ledger } = await newStore();
    let attempts = 0;
    const flaky = async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('injected write failure');
    };
    await expect(publishOnce(ledger(), KEY, {}, flaky)).rejects.toThrow('injected write failure');
    expect(await publishOnce(ledger(), KEY, {}, flaky)).toBe('published');
    expect(attempts).toBe(2);
  });

  it('refuses a lease that is not a positive whole number of milliseconds', async () => {
    const { ledger } = await newStore();
    await expect(ledger().claim(KEY, { leaseMs: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(ledger().claim(KEY, { leaseMs: 1.5 })).rejects.toBeInstanceOf(RangeError);
  });
});
