import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createFixtures } from '../../schemas/fixtures';
import { buildReviewRequest, reviewRequestSchema } from '../../consumers/order-review/review-request';
import { InvokeNotAcceptedError, LambdaEventInvoker } from '../../consumers/order-review/invoker';
import { InvalidReviewRequestError, ReviewRequestFileLog, parseReviewRequest, reviewIntakeLogPath } from '../../consumers/review-intake/intake';

const REASONS = [{ code: 'amount-above-threshold', message: 'total 60000 EUR minor units is above the review threshold 50000' }] as const;

describe('review request', () => {
  it('carries the order, reasons, amount, source event id, trace id and hops + 1', () => {
    const placed = { ...createFixtures({ seed: 41 }).orderPlaced(), traceId: 'trace-abc', hops: 2 };
    const request = buildReviewRequest(placed, REASONS);
    expect(request).toEqual({
      type: 'order.review-requested',
      version: 1,
      orderId: placed.data.orderId,
      reasons: [...REASONS],
      amountMinor: placed.data.totalMinor,
      currency: placed.data.currency,
      sourceEventId: placed.id,
      orderPlacedAt: placed.occurredAt,
      traceId: 'trace-abc',
      hops: 3,
    });
    expect(reviewRequestSchema.parse(request)).toEqual(request);
  });

  it('starts the trace at the source event when it has no traceId, and is identical for a redelivered event', () => {
    const placed = createFixtures({ seed: 42 }).orderPlaced();
    const a = buildReviewRequest(placed, REASONS);
    const b = buildReviewRequest(structuredClone(placed), REASONS);
    expect(a.traceId).toBe(placed.id);
    expect(a.hops).toBe(1);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  it('contains no personal data of the order', () => {
    const placed = createFixtures({ seed: 43 }).orderPlaced();
    const text = JSON.stringify(buildReviewRequest(placed, REASONS));
    expect(text).not.toContain(placed.data.customer.email);
    expect(text).not.toContain(placed.data.shippingAddress.line1);
  });

  it.each([
    [{ reasons: [] }, 'reasons: must contain at least one reason'],
    [{ hops: 0 }, 'hops: must be at least 1'],
    [{ currency: 'EURO' }, 'currency:'],
    [{ sourceEventId: 'nope' }, 'sourceEventId: must be the UUID of the source event'],
    [{ reasons: [{ code: 'vibes', message: 'x' }] }, 'reasons.0.code: must be one of'],
    [{ extra: true }, 'extra: is not a known field'],
  ])('review-intake refuses an invalid request with a readable reason (%#)', (patch, message) => {
    const valid = buildReviewRequest(createFixtures({ seed: 44 }).orderPlaced(), REASONS);
    const bad = { ...valid, ...patch };
    expect(() => parseReviewRequest(bad)).toThrow(InvalidReviewRequestError);
    expect(() => parseReviewRequest(bad)).toThrow(message);
  });

  it('review-intake refuses a request over the hop limit (loop guard)', () => {
    const request = { ...buildReviewRequest(createFixtures({ seed: 45 }).orderPlaced(), REASONS), hops: 6 };
    expect(() => parseReviewRequest(request, 5)).toThrow('hops: is 6, above the hop limit 5 (possible loop)');
    expect(parseReviewRequest(request, 6).hops).toBe(6);
  });

  it('review-intake appends accepted requests as NDJSON under invocations/', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'review-intake-'));
    try {
      const log = new ReviewRequestFileLog(reviewIntakeLogPath(dir));
      const f = createFixtures({ seed: 46 });
      const requests = [buildReviewRequest(f.orderPlaced(), REASONS), buildReviewRequest(f.orderPlaced(), REASONS)];
      for (const r of requests) await log.append(r);
      const lines = (await readFile(join(dir, 'invocations', 'review-intake.ndjson'), 'utf8')).trimEnd().split('\n');
      expect(lines.map((l) => JSON.parse(l))).toEqual(requests);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('LambdaEventInvoker', () => {
  const lambda = mockClient(LambdaClient);
  afterEach(() => lambda.reset());

  it('invokes the function asynchronously (InvocationType Event) with the JSON payload', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const request = buildReviewRequest(createFixtures({ seed: 47 }).orderPlaced(), REASONS);
    await new LambdaEventInvoker('orders-dev-review-intake', new LambdaClient({ region: 'eu-west-1' })).invoke(request);
    const calls = lambda.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      FunctionName: 'orders-dev-review-intake',
      InvocationType: 'Event',
      Payload: new TextEncoder().encode(JSON.stringify(request)),
    });
  });

  it('fails (so the record is retried) when Lambda does not answer 202', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200 });
    await expect(new LambdaEventInvoker('fn', new LambdaClient({ region: 'eu-west-1' })).invoke({})).rejects.toBeInstanceOf(InvokeNotAcceptedError);
  });

  it('propagates service errors such as throttling', async () => {
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    await expect(new LambdaEventInvoker('fn', new LambdaClient({ region: 'eu-west-1' })).invoke({})).rejects.toThrow('Rate exceeded');
  });

  it('refuses a payload above the 1 MB asynchronous limit without calling Lambda', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    await expect(new LambdaEventInvoker('fn', new LambdaClient({ region: 'eu-west-1' })).invoke({ blob: 'x'.repeat(1024 * 1024) })).rejects.toThrow(/1 MB/);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});
