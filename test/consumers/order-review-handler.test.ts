import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OrderEventOf } from '../../schemas';
import { createFixtures } from '../../schemas/fixtures';
import type { QuarantineRecord } from '../../consumers/runtime';
import { reviewRequestSchema } from '../../consumers/order-review/review-request';
import { kinesisEvent, kinesisRecord, lambdaContext } from './kinesis-event';

const lambda = mockClient(LambdaClient);
let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'order-review-'));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true); // EMF lines
});
afterEach(async () => {
  lambda.reset();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  vi.resetModules();
  await rm(dataDir, { recursive: true, force: true });
});

/** The exported `handler`, loaded fresh: configuration and clients are built at module load. */
async function loadHandler(env: Record<string, string> = {}) {
  // No credentials in the environment: the invoker uses the SDK client (mocked here), not the signed request.
  const base = { REVIEW_AMOUNT_THRESHOLD_MINOR: '50000', REVIEW_INTAKE_FUNCTION_NAME: 'orders-test-review-intake', LOCAL_DATA_DIR: dataDir, LOG_LEVEL: 'silent', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: '' };
  for (const [k, v] of Object.entries({ ...base, ...env })) vi.stubEnv(k, v);
  vi.resetModules();
  return (await import('../../consumers/order-review/handler')).handler;
}

function placed(seed: number, unitPriceMinor: number, quantity = 1): OrderEventOf<'order.placed'> {
  const e = createFixtures({ seed }).orderPlaced({ lines: 1 });
  const lines = [{ ...e.data.lines[0]!, quantity, unitPriceMinor }];
  return { ...e, data: { ...e.data, lines, totalMinor: quantity * unitPriceMinor } };
}

function invokedPayloads() {
  return lambda.commandCalls(InvokeCommand).map((c) => {
    expect(c.args[0].input.FunctionName).toBe('orders-test-review-intake');
    expect(c.args[0].input.InvocationType).toBe('Event');
    return reviewRequestSchema.parse(JSON.parse(new TextDecoder().decode(c.args[0].input.Payload as Uint8Array)));
  });
}

async function quarantined(): Promise<QuarantineRecord[]> {
  const text = await readFile(join(dataDir, 'quarantine', 'order-review.ndjson'), 'utf8').catch(() => '');
  return text.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as QuarantineRecord);
}

describe('order-review handler (Kinesis event in, Lambda Invoke out)', () => {
  it('invokes review-intake once per order needing review, with hops + 1, and acknowledges the batch', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const handler = await loadHandler();
    const small = placed(1, 1000);
    const big = { ...placed(2, 60_000), hops: 1, traceId: 'trace-1' };
    const bulk = placed(3, 10, 25);
    const response = await handler(kinesisEvent([small, big, bulk]), lambdaContext('order-review'));
    expect(response).toEqual({ batchItemFailures: [] });
    const requests = invokedPayloads();
    expect(requests.map((r) => [r.orderId, r.reasons.map((x) => x.code), r.hops, r.traceId])).toEqual([
      [big.data.orderId, ['amount-above-threshold'], 2, 'trace-1'],
      [bulk.data.orderId, ['bulk-quantity'], 1, bulk.id],
    ]);
    expect(await quarantined()).toEqual([]);
  });

  it('reports a record whose Invoke failed for retry (not quarantine), and starts nothing after it on that key', async () => {
    const a = placed(4, 70_000);
    const b = placed(5, 80_000);
    const bLater = { ...placed(6, 90_000), data: { ...placed(6, 90_000).data, orderId: b.data.orderId } };
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 202 })
      .on(InvokeCommand, { Payload: new TextEncoder().encode(JSON.stringify(invokeBody(b))) })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $retryable: { throttling: true } }));
    const handler = await loadHandler();
    const event = kinesisEvent([a, b, bLater]);
    const response = await handler(event, lambdaContext('order-review'));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[1]!.kinesis.sequenceNumber }] });
    expect(invokedPayloads().map((r) => r.orderId)).toContain(a.data.orderId);
    expect(invokedPayloads().filter((r) => r.sourceEventId === bLater.id)).toEqual([]);
    expect(await quarantined()).toEqual([]);
  });

  it('quarantines an invalid event with its payload and reason and still processes the others', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const handler = await loadHandler();
    const good = placed(7, 99_000);
    const bad = { ...placed(8, 99_000), data: { ...placed(8, 99_000).data, totalMinor: 1 } };
    const event = { Records: [kinesisRecord(bad, bad.data.orderId), kinesisRecord(good, good.data.orderId)] };
    expect(await handler(event, lambdaContext('order-review'))).toEqual({ batchItemFailures: [] });
    const q = await quarantined();
    expect(q).toHaveLength(1);
    expect(q[0]!.error.kind).toBe('schema');
    expect(q[0]!.error.message).toContain('data.totalMinor');
    expect(q[0]!.record.data).toBe(event.Records[0]!.kinesis.data);
    expect(invokedPayloads().map((r) => r.orderId)).toEqual([good.data.orderId]);
  });

  it('quarantines (PermanentError) a record whose review request would fail its own schema', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    // hops 1000 is a valid envelope; the request would carry 1001, above its schema's maximum.
    const handler = await loadHandler({ MAX_HOPS: '1000' });
    const looping = { ...placed(9, 75_000), hops: 1000 };
    expect(await handler(kinesisEvent([looping]), lambdaContext('order-review'))).toEqual({ batchItemFailures: [] });
    const q = await quarantined();
    expect(q.map((r) => [r.error.kind, r.event?.id])).toEqual([['handler-permanent', looping.id]]);
    expect(q[0]!.error.message).toMatch(/fails its own schema.*hops/);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('does not invoke again for a redelivered record (same event id) on a warm container', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const handler = await loadHandler();
    const big = placed(10, 65_000);
    await handler(kinesisEvent([big]), lambdaContext('order-review'));
    await handler(kinesisEvent([big]), lambdaContext('order-review'));
    expect(invokedPayloads().map((r) => r.sourceEventId)).toEqual([big.id]);
  });

  it('fails the cold start with the variable name when configuration is missing', async () => {
    vi.stubEnv('REVIEW_AMOUNT_THRESHOLD_MINOR', '');
    vi.resetModules();
    await expect(import('../../consumers/order-review/handler')).rejects.toThrow(/REVIEW_AMOUNT_THRESHOLD_MINOR is required/);
  });
});

/** The exact request order-review sends for a single-line order above the amount threshold. */
function invokeBody(e: OrderEventOf<'order.placed'>) {
  return {
    type: 'order.review-requested',
    version: 1,
    orderId: e.data.orderId,
    reasons: [{ code: 'amount-above-threshold', message: `total ${e.data.totalMinor} ${e.data.currency} minor units is above the review threshold 50000` }],
    amountMinor: e.data.totalMinor,
    currency: e.data.currency,
    sourceEventId: e.id,
    orderPlacedAt: e.occurredAt,
    traceId: e.traceId ?? e.id,
    hops: e.hops + 1,
  };
}

describe('one review per order across redeliveries: order-review sends again, review-intake accepts once', () => {
  it('a retried batch and a duplicate asynchronous delivery open one review per matching order', async () => {
    await loadHandler(); // the module reads its configuration at load
    const { createOrderReviewHandler } = await import('../../consumers/order-review/handler');
    const { readOrderReviewConfig } = await import('../../consumers/order-review/config');
    const { createReviewIntakeHandler, readReviewIntakeConfig } = await import('../../consumers/review-intake/handler');
    const { createLogger } = await import('../../telemetry/logger');
    const { InMemoryQuarantineSink } = await import('../../consumers/runtime');
    const intake = createReviewIntakeHandler({
      config: readReviewIntakeConfig({ LOCAL_DATA_DIR: dataDir }),
      logger: createLogger({ name: 'review-intake', level: 'silent' }),
      emf: () => undefined,
    });
    const sent: string[] = [];
    const outcomes: boolean[] = [];
    let request = 0;
    // One order-review container per delivery: a batch retried after a timeout or crash runs on a new one.
    const container = () => createOrderReviewHandler({
      config: readOrderReviewConfig({ REVIEW_AMOUNT_THRESHOLD_MINOR: '50000', REVIEW_INTAKE_FUNCTION_NAME: 'orders-test-review-intake' }),
      invoker: {
        // Lambda may deliver one asynchronous invocation twice: every request arrives twice here.
        invoke: async (payload) => {
          sent.push(JSON.stringify(payload));
          for (let copy = 0; copy < 2; copy++) outcomes.push((await intake(JSON.parse(JSON.stringify(payload)), { awsRequestId: `r${++request}` })).duplicate);
        },
      },
      runtime: { quarantine: new InMemoryQuarantineSink(), metrics: false },
    });
    const small = placed(11, 1000);
    const big = placed(12, 60_000);
    const bulk = placed(13, 100, 25); // above the default 20 units per SKU
    const batch = kinesisEvent([small, big, bulk]);
    expect(await container()(batch, lambdaContext('order-review'))).toEqual({ batchItemFailures: [] });
    // Lambda retries the batch (e.g. the invocation timed out after the Invokes): the same records again.
    expect(await container()(batch, lambdaContext('order-review'))).toEqual({ batchItemFailures: [] });

    // order-review sent each request once per delivery, byte for byte the same (no claim of its own) ...
    expect(sent).toHaveLength(4);
    expect(sent.slice(2)).toEqual(sent.slice(0, 2));
    // ... and review-intake opened one review per order: 8 deliveries, 2 accepted, 6 duplicates.
    expect(outcomes.filter((duplicate) => !duplicate)).toHaveLength(2);
    const lines = (await readFile(join(dataDir, 'invocations', 'review-intake.ndjson'), 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { sourceEventId: string }).sourceEventId).sort()).toEqual([big.id, bulk.id].sort());
  });
});
