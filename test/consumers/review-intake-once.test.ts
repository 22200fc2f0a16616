/**
 * review-intake accepts each review request once per `sourceEventId` (consumers/review-intake/accept-once.ts):
 * across sandboxes sharing the function's DynamoDB idempotency table (dynalite here), a copy is a
 * duplicate, a copy arriving while another sandbox is still accepting fails with
 * ReviewRequestInProgressError (Lambda retries it later), a failed effect gives the claim back, and a
 * crashed sandbox's claim is taken over once its lease has ended. Ground truth: the lines in
 * `invocations/review-intake.ndjson`, one per accepted request.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildReviewRequest, type ReviewRequest } from '../../consumers/order-review/review-request';
import { ReviewRequestInProgressError, acceptLeaseMs, acceptOnce } from '../../consumers/review-intake/accept-once';
import { CLAIM_LEASE_MARGIN_MS as ACCEPT_LEASE_MARGIN_MS, NO_CONTEXT_LEASE_MS } from '../../consumers/runtime/claim-lease';
import { createReviewIntakeHandler, readReviewIntakeConfig, type ReviewIntakeDependencies } from '../../consumers/review-intake/handler';
import { DynamoDbDurableStore } from '../../consumers/runtime/dynamodb-durable-store';
import { MemoryDurableStore, type DurableRecordStore, type EventClaim } from '../../consumers/runtime/durable-store';
import { createFixtures } from '../../schemas/fixtures';
import { createLogger } from '../../telemetry/logger';
import { useDynalite } from '../support/dynalite';

const REASONS = [{ code: 'amount-above-threshold', message: 'total above the threshold' }] as const;
const dynamo = useDynalite('review-intake-once');

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'review-intake-once-'));
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(dataDir, { recursive: true, force: true });
});

function request(seed: number): ReviewRequest {
  return buildReviewRequest(createFixtures({ seed }).orderPlaced(), REASONS);
}

/** One review-intake sandbox: its own handler instance (own memory), the shared table, a captured log. */
function sandbox(store: ReviewIntakeDependencies['store'], options: { dir?: string } = {}) {
  const lines: string[] = [];
  const emf: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const handler = createReviewIntakeHandler({
    config: readReviewIntakeConfig({ LOCAL_DATA_DIR: options.dir ?? dataDir }),
    logger: createLogger({ name: 'review-intake', level: 'info', destination }),
    emf: (line) => emf.push(line),
    ...(store !== undefined ? { store } : {}),
  });
  const metrics = () => emf.map((l) => Object.keys(JSON.parse(l) as object).find((k) => k.startsWith('ReviewRequests')));
  return { handler, lines, metrics };
}

async function accepted(dir = dataDir): Promise<string[]> {
  const text = await readFile(join(dir, 'invocations', 'review-intake.ndjson'), 'utf8').catch(() => '');
  return text === '' ? [] : text.trimEnd().split('\n').map((l) => (JSON.parse(l) as ReviewRequest).sourceEventId);
}

const context = (id: string, remainingMs = 10_000) => ({ awsRequestId: id, getRemainingTimeInMillis: () => remainingMs });

async function tableStore(): Promise<{ store: DurableRecordStore; tableName: string }> {
  const tableName = await dynamo.newLedgerTable();
  return { store: new DynamoDbDurableStore({ client: dynamo.db().client(), tableName }), tableName };
}

describe('review-intake accepts each request once (DynamoDB idempotency table)', () => {
  it('Lambda asynchronous invocation may deliver an event more than once: a copy in another sandbox is a duplicate (one line, one Accepted and one Duplicate count, the claim COMPLETED)', async () => {
    const { store, tableName } = await tableStore();
    const a = sandbox(store);
    const b = sandbox(store);
    const r = request(7001);
    expect(await a.handler(structuredClone(r), context('a1'))).toMatchObject({ accepted: true, duplicate: false });
    expect(await b.handler(structuredClone(r), context('b1'))).toMatchObject({ accepted: true, duplicate: true, sourceEventId: r.sourceEventId });
    expect(await a.handler(structuredClone(r), context('a2'))).toMatchObject({ duplicate: true });
    expect(await accepted()).toEqual([r.sourceEventId]);
    expect([...a.metrics(), ...b.metrics()].sort()).toEqual(['ReviewRequestsAccepted', 'ReviewRequestsDuplicate', 'ReviewRequestsDuplicate']);
    expect(b.lines.join('')).toContain('duplicate review request: accepted before, nothing done again');
    const { Item } = await dynamo.db().client().send(new GetItemCommand({ TableName: tableName, Key: { ledgerKey: { S: `event|${r.sourceEventId}` } }, ConsistentRead: true }));
    expect(Item?.['status']?.S).toBe('COMPLETED');
  });

  it('distinct requests are each accepted (the key is the source event id, not the order or the payload)', async () => {
    const { store } = await tableStore();
    const s = sandbox(store);
    const first = request(7002);
    const second = { ...request(7003), orderId: first.orderId }; // same order id, another source event
    await s.handler(first, context('1'));
    await s.handler(second, context('2'));
    expect(await accepted()).toEqual([first.sourceEventId, second.sourceEventId]);
  });

  it('a copy arriving while another sandbox is accepting fails with ReviewRequestInProgressError; its retry is a duplicate', async () => {
    const { store } = await tableStore();
    const r = request(7004);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inEffect = new Promise<void>((resolve) => (entered = resolve));
    // Sandbox A's effect is held open (a slow downstream) while B receives the same request.
    const slow: DurableRecordStore = Object.assign(Object.create(store) as DurableRecordStore, {
      claim: async (eventId: string, leaseMs: number) => {
        const result = await store.claim(eventId, leaseMs);
        entered();
        await gate;
        return result;
      },
    });
    const a = sandbox(slow);
    const b = sandbox(store);
    const first = a.handler(structuredClone(r), context('a'));
    await inEffect;
    const error = await b.handler(structuredClone(r), context('b')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReviewRequestInProgressError);
    expect((error as ReviewRequestInProgressError).sourceEventId).toBe(r.sourceEventId);
    expect((error as ReviewRequestInProgressError).leaseUntil.getTime()).toBeGreaterThan(Date.now());
    release();
    expect(await first).toMatchObject({ duplicate: false });
    // Lambda's retry of B's event (a minute later on AWS): A has completed, nothing is done again.
    expect(await b.handler(structuredClone(r), context('b-retry'))).toMatchObject({ duplicate: true });
    expect(await accepted()).toEqual([r.sourceEventId]);
  });

  it('a failed effect gives the claim back: the retry accepts the request (once)', async () => {
    const { store } = await tableStore();
    const r = request(7005);
    const blocked = join(dataDir, 'blocked');
    await writeFile(blocked, 'a file where the data folder should be'); // the append fails: ENOTDIR
    const failing = sandbox(store, { dir: blocked });
    await expect(failing.handler(structuredClone(r), context('1'))).rejects.toThrow(/ENOTDIR|EEXIST/);
    expect(failing.metrics()).toEqual([]);
    const healthy = sandbox(store);
    expect(await healthy.handler(structuredClone(r), context('2'))).toMatchObject({ duplicate: false });
    expect(await accepted()).toEqual([r.sourceEventId]);
  });

  it("Lambda retries a failed asynchronous invocation a minute later: a crashed sandbox's claim blocks copies until its lease ends, then the retry takes it over and accepts once", async () => {
    const now = { ms: Date.parse('2026-12-03T10:00:00Z') };
    const { tableName } = await tableStore();
    const store = new DynamoDbDurableStore({ client: dynamo.db().client(), tableName, clock: () => new Date(now.ms) });
    const r = request(7006);
    // The crashed sandbox claimed with 10 s left (lease 10 s + margin) and died before its effect.
    const held = await store.claim(r.sourceEventId, acceptLeaseMs(context('crashed')));
    expect(held.outcome).toBe('claimed');
    const s = sandbox(store);
    await expect(s.handler(structuredClone(r), context('early'))).rejects.toBeInstanceOf(ReviewRequestInProgressError);
    expect(await accepted()).toEqual([]);
    now.ms += 10_000 + ACCEPT_LEASE_MARGIN_MS + 1; // Lambda's first retry comes a minute later
    expect(await s.handler(structuredClone(r), context('retry'))).toMatchObject({ duplicate: false });
    expect(await s.handler(structuredClone(r), context('copy'))).toMatchObject({ duplicate: true });
    expect(await accepted()).toEqual([r.sourceEventId]);
  });

  it('an invalid request claims nothing: a valid one with the same source event id is then accepted', async () => {
    const { store } = await tableStore();
    const s = sandbox(store);
    const r = request(7007);
    await expect(s.handler({ ...r, amountMinor: -1 }, context('bad'))).rejects.toThrow(/invalid review request/);
    expect(await s.handler(r, context('good'))).toMatchObject({ duplicate: false });
    expect(await accepted()).toEqual([r.sourceEventId]);
  });
});

describe('the deployed entry point', () => {
  it('claims in the table IDEMPOTENCY_TABLE names (the SDK default chain and AWS_ENDPOINT_URL_DYNAMODB), created with the first request', async () => {
    const tableName = await dynamo.newLedgerTable();
    for (const [k, v] of Object.entries({
      IDEMPOTENCY_TABLE: tableName,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.db().endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
      AWS_SECRET_ACCESS_KEY: 'local-secret',
      LOCAL_DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
    })) {
      vi.stubEnv(k, v);
    }
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true); // EMF lines
    vi.resetModules();
    const { handler } = await import('../../consumers/review-intake/handler');
    const r = request(7011);
    expect(await handler(structuredClone(r), context('1'))).toMatchObject({ duplicate: false });
    expect(await handler(structuredClone(r), context('2'))).toMatchObject({ duplicate: true });
    const { Item } = await dynamo.db().client().send(new GetItemCommand({ TableName: tableName, Key: { ledgerKey: { S: `event|${r.sourceEventId}` } }, ConsistentRead: true }));
    expect(Item?.['status']?.S).toBe('COMPLETED');
    vi.restoreAllMocks();
  });
});

describe('review-intake without a table', () => {
  it('dedupes in the sandbox memory, and the table from IDEMPOTENCY_TABLE is validated at load', async () => {
    const s = sandbox(undefined);
    const r = request(7008);
    expect(await s.handler(structuredClone(r), context('1'))).toMatchObject({ duplicate: false });
    expect(await s.handler(structuredClone(r), context('2'))).toMatchObject({ duplicate: true });
    expect(await accepted()).toEqual([r.sourceEventId]);
    expect(readReviewIntakeConfig({}).idempotencyTable).toBeUndefined();
    expect(readReviewIntakeConfig({ IDEMPOTENCY_TABLE: 'orders-dev-review-intake-idempotency', IDEMPOTENCY_RETENTION_SECONDS: '172800' }).idempotencyTable).toEqual({
      tableName: 'orders-dev-review-intake-idempotency',
      retentionSeconds: 172_800,
    });
    expect(() => readReviewIntakeConfig({ IDEMPOTENCY_TABLE: 'no spaces allowed' })).toThrow(/IDEMPOTENCY_TABLE="no spaces allowed" must be a DynamoDB table name/);
  });

  it('loads the DynamoDB store once, with the first request, not at init', async () => {
    let loads = 0;
    const store = new MemoryDurableStore();
    const s = sandbox(async () => {
      loads += 1;
      return store;
    });
    expect(loads).toBe(0);
    await s.handler(request(7009), context('1'));
    await s.handler(request(7010), context('2'));
    expect(loads).toBe(1);
  });
});

describe('acceptOnce', () => {
  const log = createLogger({ name: 'accept-once', level: 'silent' });

  it('the lease is the remaining time plus the margin, or 15 minutes without a context', () => {
    expect(ACCEPT_LEASE_MARGIN_MS).toBe(5_000);
    expect(acceptLeaseMs({ getRemainingTimeInMillis: () => 9_000.2 })).toBe(14_001);
    expect(acceptLeaseMs({ getRemainingTimeInMillis: () => Infinity })).toBe(NO_CONTEXT_LEASE_MS);
    expect(acceptLeaseMs({ getRemainingTimeInMillis: () => Number.NaN })).toBe(NO_CONTEXT_LEASE_MS);
    expect(acceptLeaseMs({ getRemainingTimeInMillis: () => -5 })).toBe(ACCEPT_LEASE_MARGIN_MS);
    expect(acceptLeaseMs(undefined)).toBe(NO_CONTEXT_LEASE_MS);
    expect(acceptLeaseMs({})).toBe(NO_CONTEXT_LEASE_MS);
    expect(NO_CONTEXT_LEASE_MS).toBe(900_000);
  });

  it('claims with that lease, and a failing COMPLETED mark still answers accepted (the effect happened) and logs it', async () => {
    const calls: string[] = [];
    const inner = new MemoryDurableStore();
    const store: DurableRecordStore = {
      claim: async (id, lease) => (calls.push(`claim ${id} ${lease}`), inner.claim(id, lease)),
      complete: async () => {
        calls.push('complete');
        throw new Error('throttled');
      },
      release: async (claim: EventClaim) => (calls.push('release'), inner.release(claim)),
      recordFailure: (l, s, i) => inner.recordFailure(l, s, i),
      isCompleted: (id) => inner.isCompleted(id),
    };
    const lines: string[] = [];
    const captured = createLogger({ name: 'accept-once', level: 'info', destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
    let effects = 0;
    expect(await acceptOnce(store, 'k1', 1234, async () => void (effects += 1), captured)).toBe('accepted');
    expect(calls).toEqual(['claim k1 1234', 'complete']);
    expect(effects).toBe(1);
    expect(lines.join('')).toContain('could not be marked completed');
  });

  it('a failing release still throws the effect error (the lease ends; the retry takes over)', async () => {
    const inner = new MemoryDurableStore();
    const store: DurableRecordStore = Object.assign(Object.create(inner) as DurableRecordStore, {
      release: async () => {
        throw new Error('network');
      },
    });
    await expect(acceptOnce(store, 'k2', 1000, async () => Promise.reject(new Error('downstream down')), log)).rejects.toThrow('downstream down');
  });

  it('a store failure before the effect throws and nothing happens', async () => {
    const store = Object.assign(Object.create(new MemoryDurableStore()) as DurableRecordStore, {
      claim: async () => Promise.reject(new Error('ProvisionedThroughputExceededException')),
    });
    let effects = 0;
    await expect(acceptOnce(store, 'k3', 1000, async () => void (effects += 1), log)).rejects.toThrow('ProvisionedThroughputExceededException');
    expect(effects).toBe(0);
  });
});
